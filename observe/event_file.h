// A TensorBoard event file: scalars, PNG images and text, each an Event record
// that TensorBoard's own loader reads (tensorboard.proto).
//
//   EventFile events(dir / event_file_name(now));
//   events.scalar("train/loss", step, 0.73, now);
//   events.flush();
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "observe/record_file.h"

namespace scenery::observe {

// events.out.tfevents.<seconds>.<host>.<pid>.scenery: TensorBoard reads every
// file with "tfevents" in its name, in name order, so the creation time first.
std::string event_file_name(double wall_time);

// Seconds since the Unix epoch, as Event.wall_time holds them.
double wall_time_now();

// A PNG and what the Image summary says about it.
struct EncodedImage {
  std::string png;
  int height = 0;
  int width = 0;
  int channels = 3;  // 1 grey, 3 RGB, 4 RGBA
};

class EventFile {
 public:
  // Creates the file with its version record ("brain.Event:2").
  explicit EventFile(std::filesystem::path file);

  void scalar(std::string_view tag, int64_t step, double value, double wall_time);
  void image(std::string_view tag, int64_t step, const EncodedImage& image, double wall_time);
  // Shown by TensorBoard's Text tab (Markdown).
  void text(std::string_view tag, int64_t step, std::string_view text, double wall_time);
  // A restart at `step`: TensorBoard drops what earlier files logged at steps
  // >= `step`, so a resumed run's curves do not double back.
  void restart(int64_t step, double wall_time);
  void flush() { records_.flush(); }
  const std::filesystem::path& path() const { return records_.path(); }

 private:
  RecordFile records_;
};

}  // namespace scenery::observe
