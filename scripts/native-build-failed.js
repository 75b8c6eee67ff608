// Runs when `cmake-js compile` fails during install: the package stays usable on the virtual backend,
// and src/native.ts explains what is missing when a native backend is asked for.
process.stderr.write(
  'loopcheck: the native addon did not build (cmake-js compile failed above). The virtual backend still works.\n' +
    'Fix: install cmake and a C++17 compiler (Debian: apt-get install cmake g++), then run `npm rebuild loopcheck --build-from-source` (in a clone of loopcheck: `npm run build`).\n',
);
