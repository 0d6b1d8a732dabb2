#include "inspect/minimal_image.h"

#include <fmt/core.h>

#include <opencv2/imgproc.hpp>
#ifdef SCENERY_HAVE_XIMGPROC
#include <opencv2/ximgproc/slic.hpp>
#endif

#include "core/error.h"
#include "inspect/squash.h"

namespace scenery::inspect {

Segments segments_from_annotation(const cv::Mat& labels) {
  if (labels.type() != CV_8U) throw EvalError("segments: the annotation must be 8-bit labels");
  Segments s;
  s.ids = cv::Mat(labels.size(), CV_32S, cv::Scalar(-1));
  double max_label = 0;
  cv::minMaxLoc(labels, nullptr, &max_label);
  // Unlabelled pixels (0) are segments too: kept, an object's outline would
  // still draw the object that was removed.
  for (int c = 0; c <= static_cast<int>(max_label); ++c) {
    const cv::Mat mask = labels == c;
    if (cv::countNonZero(mask) == 0) continue;
    cv::Mat components;
    const int n = cv::connectedComponents(mask, components, 8, CV_32S);
    for (int k = 1; k < n; ++k) {
      const int id = s.count();
      const cv::Mat region = components == k;
      s.ids.setTo(id, region);
      s.classes.push_back(c);
      s.pixels.push_back(cv::countNonZero(region));
    }
  }
  return s;
}

bool have_superpixels() {
#ifdef SCENERY_HAVE_XIMGPROC
  return true;
#else
  return false;
#endif
}

Segments superpixel_segments(const cv::Mat& rgb, int region_size) {
#ifdef SCENERY_HAVE_XIMGPROC
  cv::Mat lab;
  cv::cvtColor(rgb, lab, cv::COLOR_RGB2Lab);
  auto slic = cv::ximgproc::createSuperpixelSLIC(lab, cv::ximgproc::SLICO, region_size);
  slic->iterate(10);
  slic->enforceLabelConnectivity(25);
  Segments s;
  slic->getLabels(s.ids);
  const int n = slic->getNumberOfSuperpixels();
  s.classes.assign(static_cast<size_t>(n), 0);
  s.pixels.assign(static_cast<size_t>(n), 0);
  for (int y = 0; y < s.ids.rows; ++y)
    for (int x = 0; x < s.ids.cols; ++x)
      ++s.pixels[static_cast<size_t>(s.ids.at<int>(y, x))];
  return s;
#else
  (void)rgb;
  (void)region_size;
  throw EvalError(
      "this build has no OpenCV ximgproc (libopencv-contrib-dev) for SLIC superpixels; give "
      "images with annotations");
#endif
}

GreedyRemoval greedy_removal(
    const torch::Tensor& ids, int segments, int64_t label,
    const std::function<torch::Tensor(const torch::Tensor&)>& probabilities, int batch_size) {
  GreedyRemoval r;
  r.kept.assign(static_cast<size_t>(segments), true);
  auto keep = torch::ones(ids.sizes(), torch::kFloat32);
  auto first = probabilities(keep.unsqueeze(0));
  ++r.forwards;
  const int64_t answer = first[0].argmax().item<int64_t>();
  if (label < 0) label = answer;
  r.label = label;
  r.start_probability = r.final_probability = first[0][label].item<float>();
  r.correct = answer == label;
  if (!r.correct) return r;
  // Segments that cover no pixel at this size change nothing: never "removed".
  std::vector<torch::Tensor> masks(static_cast<size_t>(segments));
  std::vector<int> alive;
  for (int s = 0; s < segments; ++s) {
    masks[static_cast<size_t>(s)] = (ids == s).to(torch::kFloat32);
    if (masks[static_cast<size_t>(s)].sum().item<float>() > 0) alive.push_back(s);
  }
  while (!alive.empty()) {
    int best = -1;
    float best_probability = -1;
    for (size_t begin = 0; begin < alive.size(); begin += static_cast<size_t>(batch_size)) {
      const size_t end = std::min(alive.size(), begin + static_cast<size_t>(batch_size));
      std::vector<torch::Tensor> candidates;
      for (size_t k = begin; k < end; ++k)
        candidates.push_back(keep * (1 - masks[static_cast<size_t>(alive[k])]));
      const auto p = probabilities(torch::stack(candidates));
      r.forwards += static_cast<int64_t>(end - begin);
      const auto still = p.argmax(1) == label;
      for (size_t k = begin; k < end; ++k) {
        const auto i = static_cast<int64_t>(k - begin);
        const float v = p[i][label].item<float>();
        // Ties: the earlier segment, so the order does not depend on batching.
        if (still[i].item<bool>() && v > best_probability) {
          best_probability = v;
          best = alive[k];
        }
      }
    }
    if (best < 0) break;
    keep = keep * (1 - masks[static_cast<size_t>(best)]);
    r.removed.push_back(best);
    r.kept[static_cast<size_t>(best)] = false;
    r.final_probability = best_probability;
    alive.erase(std::find(alive.begin(), alive.end(), best));
  }
  return r;
}

MinimalResult minimal_image(models::SceneModel& model, torch::Device device, const cv::Mat& rgb,
                            const Segments& segments, int64_t label, const MinimalOptions& o) {
  if (segments.ids.size() != rgb.size()) {
    throw EvalError(fmt::format("minimal image: segments of {}x{} for an image of {}x{}",
                                segments.ids.cols, segments.ids.rows, rgb.cols, rgb.rows));
  }
  const cv::Size size(o.input_size, o.input_size);
  const cv::Mat input_rgb = squash(rgb, o.input_size);
  cv::Mat ids;
  cv::resize(segments.ids, ids, size, 0, 0, cv::INTER_NEAREST);
  const auto ids_t =
      torch::from_blob(ids.data, {o.input_size, o.input_size}, torch::kInt32).to(torch::kInt64);
  // Normalised, the mean colour is 0: a removed pixel is input * 0.
  const auto input = data::to_normalized_tensor(input_rgb, o.normalize).to(device);
  torch::NoGradGuard no_grad;
  model.eval();
  auto scorer = [&](const torch::Tensor& keep) {
    const auto x = (input.unsqueeze(0) * keep.to(device).unsqueeze(1))
                       .contiguous(torch::MemoryFormat::ChannelsLast);
    return torch::softmax(model.forward(x).logits.to(torch::kFloat32), 1).to(torch::kCPU);
  };
  const GreedyRemoval g = greedy_removal(ids_t, segments.count(), label, scorer, o.batch_size);
  MinimalResult r;
  r.label = g.label;
  r.correct = g.correct;
  r.removed = g.removed;
  r.kept = g.kept;
  r.start_probability = g.start_probability;
  r.final_probability = g.final_probability;
  r.forwards = g.forwards;
  r.seen = input_rgb;
  r.minimal = input_rgb.clone();
  const cv::Vec3b mean(cv::saturate_cast<uint8_t>(o.normalize.mean[0] * 255.0f),
                       cv::saturate_cast<uint8_t>(o.normalize.mean[1] * 255.0f),
                       cv::saturate_cast<uint8_t>(o.normalize.mean[2] * 255.0f));
  int64_t removed_pixels = 0;
  for (int y = 0; y < ids.rows; ++y)
    for (int x = 0; x < ids.cols; ++x) {
      const int s = ids.at<int>(y, x);
      if (s >= 0 && !r.kept[static_cast<size_t>(s)]) {
        r.minimal.at<cv::Vec3b>(y, x) = mean;
        ++removed_pixels;
      }
    }
  r.kept_fraction = 1.0 - static_cast<double>(removed_pixels) / (static_cast<double>(ids.total()));
  return r;
}

}  // namespace scenery::inspect
