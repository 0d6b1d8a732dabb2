#include "observe/event_file.h"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>

#include "observe/tensorboard.pb.h"

namespace scenery::observe {
namespace tb = tensorboard;

namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == 0) return "localhost";
  return name;
}

tb::Event event_at(int64_t step, double wall_time) {
  tb::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  return event;
}

}  // namespace

std::string event_file_name(double wall_time) {
  return fmt::format("events.out.tfevents.{}.{}.{}.scenery", static_cast<int64_t>(wall_time),
                     host_name(), static_cast<int64_t>(getpid()));
}

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

EventFile::EventFile(std::filesystem::path file) : records_(std::move(file)) {
  tb::Event event = event_at(0, wall_time_now());
  event.set_file_version("brain.Event:2");
  records_.write(event.SerializeAsString());
}

void EventFile::scalar(std::string_view tag, int64_t step, double value, double wall_time) {
  tb::Event event = event_at(step, wall_time);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(std::string(tag));
  v->set_simple_value(static_cast<float>(value));
  records_.write(event.SerializeAsString());
}

void EventFile::image(std::string_view tag, int64_t step, const EncodedImage& image,
                      double wall_time) {
  tb::Event event = event_at(step, wall_time);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(std::string(tag));
  auto* im = v->mutable_image();
  im->set_height(image.height);
  im->set_width(image.width);
  im->set_colorspace(image.channels);
  im->set_encoded_image_string(image.png);
  records_.write(event.SerializeAsString());
}

void EventFile::text(std::string_view tag, int64_t step, std::string_view text, double wall_time) {
  tb::Event event = event_at(step, wall_time);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(std::string(tag));
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
  auto* tensor = v->mutable_tensor();
  tensor->set_dtype(tb::DT_STRING);
  tensor->mutable_tensor_shape()->add_dim()->set_size(1);
  tensor->add_string_val(std::string(text));
  records_.write(event.SerializeAsString());
}

void EventFile::restart(int64_t step, double wall_time) {
  tb::Event event = event_at(step, wall_time);
  event.mutable_session_log()->set_status(tb::SessionLog::START);
  records_.write(event.SerializeAsString());
}

}  // namespace scenery::observe
