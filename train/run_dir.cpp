#include "train/run_dir.h"

#include <fmt/core.h>

#include <fstream>

#include "core/atomic_file.h"

namespace scenery::train {
namespace fs = std::filesystem;

RunDir::RunDir(fs::path dir) : dir_(std::move(dir)) {
  ensure_writable_directory(dir_);
}

fs::path RunDir::epoch_checkpoint(int64_t epoch) const {
  return dir_ / fmt::format("epoch_{:03d}.ckpt", epoch);
}

const std::vector<std::string>& MetricsCsv::columns() {
  static const std::vector<std::string> c{
      "epoch",   "train_loss",    "lr",       "val_top1",     "val_top5",
      "val_mca", "val_pixel_acc", "val_miou", "images_per_s", "data_wait"};
  return c;
}

const std::vector<std::string>& MetricsCsv::timing_columns() {
  static const std::vector<std::string> c{"images_per_s", "data_wait"};
  return c;
}

MetricsCsv::MetricsCsv(fs::path file, int64_t keep_epochs) : file_(std::move(file)) {
  std::ifstream in(file_);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    int64_t epoch = 0;
    try {
      epoch = std::stoll(line.substr(0, line.find(',')));
    } catch (...) {
      continue;  // a foreign line: not ours to keep
    }
    if (epoch <= keep_epochs) lines_.push_back(line);
  }
}

void MetricsCsv::append(const MetricsRow& r) {
  const auto opt = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.6f}", *v) : std::string();
  };
  lines_.push_back(fmt::format("{},{:.6f},{:.6g},{},{},{},{},{},{:.1f},{:.3f}", r.epoch,
                               r.train_loss, r.lr, opt(r.top1), opt(r.top5), opt(r.mca),
                               opt(r.pixel_acc), opt(r.miou), r.images_per_s, r.data_wait));
  flush();
}

void MetricsCsv::flush() const {
  std::string text;
  for (size_t i = 0; i < columns().size(); ++i)
    text += (i ? "," : "") + columns()[i];
  text += "\n";
  for (const auto& l : lines_)
    text += l + "\n";
  write_file_atomic(file_, text);
}

}  // namespace scenery::train
