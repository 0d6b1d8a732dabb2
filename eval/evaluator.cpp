#include "eval/evaluator.h"

#include <fmt/core.h>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/decode.h"
#include "data/transforms.h"
#include "eval/parsing_submission.h"
#include "eval/pictures.h"

namespace scenery::eval {
namespace fs = std::filesystem;

namespace {

// Every label known (-1 nowhere) or none (a test split); a mix is a broken catalog.
bool catalog_is_labelled(const data::Catalog& catalog) {
  int64_t unlabelled = 0;
  for (size_t i = 0; i < catalog.size(); ++i)
    unlabelled += catalog.label(i) < 0;
  if (unlabelled != 0 && unlabelled != static_cast<int64_t>(catalog.size())) {
    throw EvalError(
        fmt::format("{} {} split mixes labelled and unlabelled images ({} of {} "
                    "without a label)",
                    catalog.dataset(), catalog.split(), unlabelled, catalog.size()));
  }
  return unlabelled == 0;
}

torch::Device model_device(models::SceneModel& model) {
  const auto params = model.named_parameters();
  return params.is_empty() ? torch::Device(torch::kCPU) : params.begin()->value().device();
}

// Data-parallel ranks other than 0 draw nothing.
Progress::Options images_progress(int rank) {
  Progress::Options o;
  o.unit = "img";
  if (rank != 0) o.out = nullptr;
  return o;
}

}  // namespace

SceneEvalResult evaluate_scenes(models::SceneModel& model, const data::Catalog& catalog,
                                const data::LoaderOptions& options,
                                PlacesSubmissionWriter* submission, models::Branches branches,
                                const SemanticProvider& semantic) {
  if (model.kind() == models::ModelKind::kParsing) {
    throw EvalError(fmt::format("'{}' is a parsing network; scene evaluation needs a classifier",
                                model.arch()));
  }
  if (catalog.num_classes() > 0 && catalog.num_classes() != model.num_classes()) {
    throw EvalError(fmt::format("the model predicts {} classes but {} {} has {}",
                                model.num_classes(), catalog.dataset(), catalog.split(),
                                catalog.num_classes()));
  }
  const bool ten_crop = options.mode == data::LoaderMode::kTenCrop;
  if (ten_crop && options.semantic != data::SemanticSource::kNone) {
    throw EvalError(
        "ten-crop evaluation of the two-branch network is not supported; use the "
        "centre crop (eval.crop = center)");
  }
  SceneEvalResult result;
  if (catalog_is_labelled(catalog)) result.meter.emplace(model.num_classes());

  data::Loader loader(catalog, options);
  loader.start_epoch(0);
  const torch::Device device = model_device(model);
  torch::NoGradGuard no_grad;
  model.eval();
  Progress progress("eval", static_cast<int64_t>(loader.shard_size()),
                    images_progress(options.rank));
  while (auto batch = loader.next()) {
    const int64_t b = batch->size();
    torch::Tensor images = batch->images.to(device);
    if (ten_crop) images = images.flatten(0, 1);  // [B*10, 3, H, W]
    const models::SemanticMap map =
        branches == models::Branches::kRgbOnly ? models::SemanticMap() : semantic(*batch, images);
    torch::Tensor logits = model.forward(images, map, branches).logits;
    if (ten_crop) logits = logits.view({b, 10, -1}).mean(1);
    logits = logits.to(torch::kCPU, torch::kFloat);
    if (result.meter) result.meter->add(logits, batch->labels);
    if (submission) {
      std::vector<std::string> names;
      const auto idx = batch->indices.accessor<int64_t, 1>();
      for (int64_t i = 0; i < b; ++i) {
        names.push_back(fs::path(catalog.image_path(idx[i])).filename().string());
      }
      submission->add(names, logits);
    }
    result.images += b;
    progress.advance(b);
  }
  progress.finish();
  result.skipped = loader.skipped_total();
  return result;
}

torch::Tensor parse_image(models::SceneModel& model, const cv::Mat& rgb,
                          const ParsingProtocol& protocol) {
  const torch::Device device = model_device(model);
  const int64_t h = rgb.rows, w = rgb.cols;
  torch::Tensor probs;
  for (double scale : protocol.scales) {
    cv::Mat scaled = rgb;
    if (scale != 1.0) {
      const int sh = std::max(1, static_cast<int>(std::lround(h * scale)));
      const int sw = std::max(1, static_cast<int>(std::lround(w * scale)));
      cv::resize(rgb, scaled, cv::Size(sw, sh), 0, 0,
                 scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    }
    for (bool mirrored : {false, true}) {
      if (mirrored && !protocol.flip) continue;
      torch::Tensor input = data::to_normalized_tensor(scaled, protocol.normalize).unsqueeze(0);
      if (mirrored) input = input.flip({3});
      torch::Tensor logits = model.forward(input.to(device)).logits;  // [1, C, sh, sw]
      if (mirrored) logits = logits.flip({3});
      if (logits.size(2) != h || logits.size(3) != w) {
        logits = torch::nn::functional::interpolate(logits,
                                                    torch::nn::functional::InterpolateFuncOptions()
                                                        .size(std::vector<int64_t>{h, w})
                                                        .mode(torch::kBilinear)
                                                        .align_corners(false));
      }
      torch::Tensor p = torch::softmax(logits.to(torch::kFloat), 1)[0].cpu();
      probs = probs.defined() ? probs + p : p;
    }
  }
  return probs;
}

namespace {

// The image, its prediction (class + 1) and its annotation (empty: none) as a strip.
cv::Mat picture_of(const cv::Mat& rgb, const torch::Tensor& prediction, const cv::Mat& gt) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  torch::Tensor truth;
  if (!gt.empty()) {
    const cv::Mat c = gt.isContinuous() ? gt : gt.clone();
    truth = torch::from_blob(const_cast<uint8_t*>(c.ptr<uint8_t>()), {c.rows, c.cols}, torch::kByte)
                .clone();
  }
  return parsing_strip(bgr, prediction, truth);
}

}  // namespace

ParsingEvalResult evaluate_parsing(models::SceneModel& model, const data::Catalog& catalog,
                                   const ParsingProtocol& protocol,
                                   const fs::path& submission_dir) {
  if (model.kind() != models::ModelKind::kParsing) {
    throw EvalError(fmt::format("'{}' is not a parsing network", model.arch()));
  }
  if (model.num_classes() != protocol.num_classes) {
    throw EvalError(fmt::format("the parsing network predicts {} classes, the protocol expects {}",
                                model.num_classes(), protocol.num_classes));
  }
  if (protocol.scales.empty()) throw EvalError("parsing evaluation needs at least one scale");
  ParsingEvalResult result;
  if (catalog.has_masks()) result.meter.emplace(protocol.num_classes);
  torch::NoGradGuard no_grad;
  model.eval();
  if (protocol.world_size < 1 || protocol.rank < 0 || protocol.rank >= protocol.world_size) {
    throw EvalError(fmt::format("rank {} outside 0..{}", protocol.rank, protocol.world_size - 1));
  }
  const size_t stride = static_cast<size_t>(protocol.world_size);
  const size_t first = static_cast<size_t>(protocol.rank);
  const int64_t shard = static_cast<int64_t>(
      catalog.size() > first ? (catalog.size() - first + stride - 1) / stride : 0);
  Progress progress("parse", shard, images_progress(protocol.rank));
  for (size_t i = first; i < catalog.size(); i += stride) {
    const data::Sample sample = catalog.at(i);
    const cv::Mat rgb = data::decode_sample_rgb(sample, protocol.max_image_pixels);
    const torch::Tensor probs = parse_image(model, rgb, protocol);
    const torch::Tensor prediction = (probs.argmax(0) + 1).to(torch::kByte).contiguous();
    cv::Mat gt;
    if (result.meter) {
      if (sample.mask.empty()) {
        throw EvalError(fmt::format("image '{}' has no annotation", sample.image.string()));
      }
      gt = data::decode_sample_mask(sample, protocol.max_image_pixels);
      if (gt.rows != rgb.rows || gt.cols != rgb.cols) {
        throw EvalError(fmt::format("annotation '{}' is {}x{} but its image is {}x{}",
                                    sample.mask.string(), gt.cols, gt.rows, rgb.cols, rgb.rows));
      }
      const cv::Mat gt_c = gt.isContinuous() ? gt : gt.clone();
      result.meter->add(prediction.data_ptr<uint8_t>(), gt_c.ptr<uint8_t>(),
                        static_cast<size_t>(prediction.numel()));
    }
    if (static_cast<int>(result.examples.size()) < protocol.examples)
      result.examples.push_back(picture_of(rgb, prediction, gt));
    if (!submission_dir.empty()) {
      write_parsing_png(submission_dir, sample.image.stem().string(), prediction,
                        protocol.num_classes);
    }
    ++result.images;
    progress.advance();
  }
  progress.finish();
  return result;
}

}  // namespace scenery::eval
