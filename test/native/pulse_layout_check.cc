// Compiles only if native/linux/pulse_api.h's hand-declared types and constants match libpulse-dev's
// headers (sizes, field offsets, enum values). Built by test/native/engine.test.ts when the headers exist.
#include <pulse/pulseaudio.h>
#include <pulse/thread-mainloop.h>

#include <cstddef>
#include <cstdio>

#include "linux/pulse_api.h"

namespace lp = loopcheck::pa;

#define SAME_SIZE(ours, theirs) static_assert(sizeof(lp::ours) == sizeof(theirs), #ours " size differs")
#define SAME_OFFSET(ours, theirs, f1, f2) \
  static_assert(offsetof(lp::ours, f1) == offsetof(theirs, f2), #ours "." #f1 " offset differs")

SAME_SIZE(sample_spec, pa_sample_spec);
SAME_OFFSET(sample_spec, pa_sample_spec, rate, rate);
SAME_OFFSET(sample_spec, pa_sample_spec, channels, channels);
SAME_SIZE(buffer_attr, pa_buffer_attr);
SAME_OFFSET(buffer_attr, pa_buffer_attr, fragsize, fragsize);
SAME_SIZE(channel_map, pa_channel_map);
SAME_SIZE(cvolume, pa_cvolume);
SAME_SIZE(timing_info, pa_timing_info);
SAME_OFFSET(timing_info, pa_timing_info, write_index, write_index);
SAME_OFFSET(timing_info, pa_timing_info, read_index, read_index);
SAME_OFFSET(timing_info, pa_timing_info, since_underrun, since_underrun);
SAME_OFFSET(sink_info, pa_sink_info, description, description);
SAME_OFFSET(sink_info, pa_sink_info, sample_spec_, sample_spec);
SAME_OFFSET(sink_info, pa_sink_info, monitor_source_name, monitor_source_name);
SAME_OFFSET(sink_info, pa_sink_info, configured_latency, configured_latency);
SAME_OFFSET(sink_info, pa_sink_info, state, state);
SAME_OFFSET(source_info, pa_source_info, sample_spec_, sample_spec);
SAME_OFFSET(source_info, pa_source_info, monitor_of_sink_name, monitor_of_sink_name);
SAME_OFFSET(source_info, pa_source_info, state, state);
SAME_OFFSET(server_info, pa_server_info, default_sink_name, default_sink_name);
SAME_OFFSET(server_info, pa_server_info, default_source_name, default_source_name);
SAME_OFFSET(server_info, pa_server_info, channel_map_, channel_map);
SAME_SIZE(server_info, pa_server_info);

static_assert(lp::CONTEXT_READY == PA_CONTEXT_READY && lp::CONTEXT_FAILED == PA_CONTEXT_FAILED &&
                  lp::CONTEXT_TERMINATED == PA_CONTEXT_TERMINATED, "context states");
static_assert(lp::STREAM_READY == PA_STREAM_READY && lp::STREAM_FAILED == PA_STREAM_FAILED &&
                  lp::STREAM_TERMINATED == PA_STREAM_TERMINATED && lp::STREAM_CREATING == PA_STREAM_CREATING,
              "stream states");
static_assert(lp::OPERATION_RUNNING == PA_OPERATION_RUNNING && lp::OPERATION_DONE == PA_OPERATION_DONE, "op states");
static_assert(lp::CONTEXT_NOAUTOSPAWN == PA_CONTEXT_NOAUTOSPAWN, "context flags");
static_assert(lp::STREAM_INTERPOLATE_TIMING == PA_STREAM_INTERPOLATE_TIMING &&
                  lp::STREAM_AUTO_TIMING_UPDATE == PA_STREAM_AUTO_TIMING_UPDATE &&
                  lp::STREAM_DONT_MOVE == PA_STREAM_DONT_MOVE && lp::STREAM_ADJUST_LATENCY == PA_STREAM_ADJUST_LATENCY,
              "stream flags");
static_assert(lp::SAMPLE_FLOAT32LE == PA_SAMPLE_FLOAT32LE, "float32le");
static_assert(lp::SEEK_RELATIVE == PA_SEEK_RELATIVE, "seek mode");
static_assert(lp::CHANNELS_MAX == PA_CHANNELS_MAX, "channels max");
static_assert(lp::ERR_CONNECTIONREFUSED == PA_ERR_CONNECTIONREFUSED && lp::ERR_NOENTITY == PA_ERR_NOENTITY &&
                  lp::ERR_CONNECTIONTERMINATED == PA_ERR_CONNECTIONTERMINATED && lp::ERR_KILLED == PA_ERR_KILLED &&
                  lp::ERR_BADSTATE == PA_ERR_BADSTATE && lp::ERR_TIMEOUT == PA_ERR_TIMEOUT,
              "error codes");

int main() {
  std::printf("pulse layout matches libpulse headers\n");
  return 0;
}
