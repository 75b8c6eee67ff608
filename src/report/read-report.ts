/** Reading a report.json written by `loopcheck verify` back in: the first checks every reader of one shares. */

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses `text` as JSON and checks it is an object with `"tool": "loopcheck"`; otherwise throws `bad(why)`, `why`
 * being the first line of the JSON error or the missing tool. The caller validates the fields it reads.
 */
export function parseLoopcheckJson(text: string, bad: (why: string) => Error): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw bad(`invalid JSON (${(e as Error).message.split('\n')[0]!.slice(0, 80)})`);
  }
  if (!isObj(v) || v.tool !== 'loopcheck') throw bad('no "tool": "loopcheck"');
  return v;
}
