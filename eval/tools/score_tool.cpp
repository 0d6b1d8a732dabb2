#include "eval/tools/score_tool.h"

#include <fmt/core.h>

#include "core/atomic_file.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/json_writer.h"
#include "eval/parsing_submission.h"
#include "eval/places_submission.h"

namespace scenery::eval {

int run_score_tool(const std::string& program, const std::vector<std::string>& args) {
  Config config(program,
                "score a Places365 submission file against a ground-truth list, or a folder of "
                "ADE20K prediction PNGs against the annotation folder");
  add_common_options(config);
  config.add<std::string>("places", "", "Places365 submission text file to score");
  config.add<std::string>("ground-truth", "",
                          "ground-truth list '<file> <label>' (e.g. places365_val.txt)");
  config.add<std::string>("parsing", "", "folder of predicted ADE20K PNGs to score");
  config.add<std::string>("annotations", "", "ADE20K annotation folder (annotations/validation)");
  config.add<int>("num-classes", 0, "number of classes (default: 365 for places, 150 for parsing)");
  config.add<bool>("per-class", false, "also print the IoU of every parsing class");
  config.add<std::string>("json", "",
                          "also write the numbers at full precision to this JSON file (for "
                          "comparing with the devkit's output)");
  if (auto code = parse_or_exit(config, args)) return *code;

  const auto places = config.get<std::string>("places");
  const auto parsing = config.get<std::string>("parsing");
  if (places.empty() == parsing.empty()) {
    throw UsageError(
        "give exactly one of --places FILE (with --ground-truth) or --parsing DIR "
        "(with --annotations)");
  }
  int classes = config.get<int>("num-classes");
  const auto json = config.get<std::string>("json");
  if (!places.empty()) {
    const auto gt = config.get<std::string>("ground-truth");
    if (gt.empty()) throw UsageError("--places needs --ground-truth FILE");
    const PlacesScore s = score_places_submission(places, gt, classes > 0 ? classes : 365);
    fmt::print("images {}\n", s.images);
    for (int n = 1; n <= kPlacesSubmissionLabels; ++n) {
      fmt::print("top-{} error {:.4f}\n", n, s.error[n - 1]);
    }
    fmt::print("top-1 accuracy {:.4f}\ntop-5 accuracy {:.4f}\n", s.top1(), s.top5());
    if (!json.empty()) {
      JsonWriter w;
      w.begin_object()
          .value("submission", places)
          .value("ground_truth", gt)
          .value("images", s.images)
          .value("top_n_error", std::vector<double>(s.error.begin(), s.error.end()))
          .value("top1_accuracy", s.top1())
          .value("top5_accuracy", s.top5())
          .end_object();
      write_file_atomic(json, w.str());
    }
    return 0;
  }
  const auto annotations = config.get<std::string>("annotations");
  if (annotations.empty()) throw UsageError("--parsing needs --annotations DIR");
  const SegmentationMeter m =
      score_parsing_folder(parsing, annotations, classes > 0 ? classes : 150);
  fmt::print("labelled pixels {}\npixel accuracy {:.4f}\nmean IoU {:.4f}\nscore {:.4f}\n",
             m.labelled_pixels(), m.pixel_accuracy(), m.mean_iou(), m.challenge_score());
  if (config.get<bool>("per-class")) {
    for (int c = 1; c <= m.num_classes(); ++c)
      fmt::print("class {} IoU {:.4f}\n", c, m.iou(c));
  }
  if (!json.empty()) {
    JsonWriter w;
    w.begin_object()
        .value("predictions", parsing)
        .value("annotations", annotations)
        .value("labelled_pixels", m.labelled_pixels())
        .value("pixel_accuracy", m.pixel_accuracy())
        .value("mean_iou", m.mean_iou())
        .value("score", m.challenge_score())
        .value("iou", m.per_class_iou())  // index 0 = class 1
        .end_object();
    write_file_atomic(json, w.str());
  }
  return 0;
}

}  // namespace scenery::eval
