#include "observe/run_recorder.h"

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <future>

#include "core/error.h"
#include "core/log.h"
#include "observe/event_file.h"

namespace scenery::observe {
namespace {

EncodedImage encode_png(const cv::Mat& picture) {
  EncodedImage image;
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", picture, bytes))
    throw IoError("cannot encode a " + std::to_string(picture.cols) + "x" +
                  std::to_string(picture.rows) + " picture as PNG");
  image.png.assign(bytes.begin(), bytes.end());
  image.height = picture.rows;
  image.width = picture.cols;
  image.channels = picture.channels() == 1 ? 1 : picture.channels() == 4 ? 4 : 3;
  return image;
}

}  // namespace

RunRecorder::RunRecorder(std::filesystem::path dir, RecorderOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {
  const double created = wall_time_now();
  post([this, created] {
    const std::string name =
        options_.event_file.empty() ? event_file_name(created) : options_.event_file;
    events_ = std::make_unique<EventFile>(dir_ / name);
    if (options_.resume_step >= 0) events_->restart(options_.resume_step + 1, created);
    if (!options_.jsonl_file.empty())
      jsonl_ = std::make_unique<MetricsJsonl>(dir_ / options_.jsonl_file, options_.resume_step);
  });
  worker_ = std::thread([this] { work(); });
}

RunRecorder::~RunRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  worker_.join();
}

void RunRecorder::scalars(int64_t step, int64_t epoch, Scalars values) {
  const double now = wall_time_now();
  post([this, step, epoch, now, values = std::move(values)] {
    for (const auto& [tag, value] : values)
      events_->scalar(tag, step, value, now);
    if (jsonl_) jsonl_->append(step, epoch, now, values);
  });
}

void RunRecorder::image(int64_t step, std::string tag, cv::Mat picture) {
  const double now = wall_time_now();
  post([this, step, now, tag = std::move(tag), picture = std::move(picture)] {
    events_->image(tag, step, encode_png(picture), now);
  });
}

void RunRecorder::text(int64_t step, std::string tag, std::string text) {
  const double now = wall_time_now();
  post([this, step, now, tag = std::move(tag), text = std::move(text)] {
    events_->text(tag, step, text, now);
  });
}

void RunRecorder::flush() {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  // A task that fails or never runs (recording stopped) drops the promise,
  // which readies the future too: flush() never hangs on a failure.
  post([this, done = std::move(done)] {
    flush_files();
    done->set_value();
  });
  finished.wait();
}

bool RunRecorder::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void RunRecorder::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void RunRecorder::flush_files() {
  if (events_) events_->flush();
  if (jsonl_) jsonl_->flush();
}

// The first failed write disables the recorder: one warning names the file
// and the system's reason, later tasks are dropped. Only the worker touches
// the files, so it closes them here.
void RunRecorder::run_task(const Task& task) {
  if (failed()) return;
  try {
    task();
  } catch (const std::exception& e) {
    log::warn("recording the run in {} stopped: {} (training and its other files go on)",
              dir_.string(), e.what());
    events_.reset();
    jsonl_.reset();
    std::lock_guard lock(mutex_);
    failed_ = true;
  }
}

void RunRecorder::work() {
  using Clock = std::chrono::steady_clock;
  auto next_flush = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options_.flush_s));
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_until(lock, next_flush, [&] { return stopping_ || !queue_.empty(); });
    while (!queue_.empty()) {
      Task task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      run_task(task);
      lock.lock();
    }
    if (stopping_ || Clock::now() >= next_flush) {
      lock.unlock();
      run_task([this] { flush_files(); });
      lock.lock();
      next_flush = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(options_.flush_s));
    }
    if (stopping_ && queue_.empty()) return;
  }
}

}  // namespace scenery::observe
