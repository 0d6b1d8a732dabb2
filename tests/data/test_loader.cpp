#include "data/loader.h"

#include <gtest/gtest.h>

#include <torch/torch.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "data/data_options.h"
#include "data/decode.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;

// A small dataset on disk: `n` JPEGs of varied sizes with smooth content,
// label = index % 5; optionally masks (block pattern, image drawn from it).
struct Fixture {
  TempDir dir;
  Catalog catalog;
  explicit Fixture(int n, bool masks = false, bool top3 = false)
      : catalog("test", "train", fs::path()) {
    for (int i = 0; i < n; ++i) {
      const int w = 48 + (i * 13) % 40, h = 40 + (i * 7) % 30;
      const std::string base = "img_" + std::to_string(i);
      if (masks || top3) {
        cv::Mat mask(h, w, CV_8UC1);
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            mask.at<uint8_t>(y, x) = uint8_t((x / 12 + 3 * (y / 12) + i) % 6 + 1);
        cv::Mat grey, bgr;
        mask.convertTo(grey, CV_8U, 40);
        cv::cvtColor(grey, bgr, cv::COLOR_GRAY2BGR);
        cv::imwrite((dir / (base + ".png")).string(), bgr);  // lossless: exact alignment checks
        cv::imwrite((dir / (base + "_mask.png")).string(), mask);
        cv::Mat classes, scores;  // file R,G,B = class (v-1), class 0, class 9
        cv::merge(std::vector<cv::Mat>{cv::Mat(h, w, CV_8UC1, cv::Scalar(9)),
                                       cv::Mat(h, w, CV_8UC1, cv::Scalar(0)), mask - 1},
                  classes);
        cv::merge(std::vector<cv::Mat>{cv::Mat(h, w, CV_8UC1, cv::Scalar(0)),
                                       cv::Mat(h, w, CV_8UC1, cv::Scalar(51)),
                                       cv::Mat(h, w, CV_8UC1, cv::Scalar(204))},
                  scores);
        cv::imwrite((dir / (base + "_cls.png")).string(), classes);
        cv::imwrite((dir / (base + "_scr.png")).string(), scores);
        catalog.add((dir / (base + ".png")).string(), i % 5,
                    masks ? (dir / (base + "_mask.png")).string() : "",
                    top3 ? (dir / (base + "_cls.png")).string() : "",
                    top3 ? (dir / (base + "_scr.png")).string() : "");
      } else {
        cv::Mat img(h, w, CV_8UC3);
        cv::randu(img, 0, 255);
        cv::GaussianBlur(img, img, {0, 0}, 2.0);
        cv::imwrite((dir / (base + ".jpg")).string(), img);
        catalog.add((dir / (base + ".jpg")).string(), i % 5);
      }
    }
  }
  fs::path image(int i) const { return catalog.at(static_cast<size_t>(i)).image; }
};

LoaderOptions small(int workers) {
  LoaderOptions o;
  o.batch_size = 5;
  o.workers = workers;
  o.prefetch = 2;
  o.seed = 11;
  o.train.crop.size = 32;
  o.train.jitter = {0.3, 0.3, 0.3};
  o.eval = {36, 32};
  return o;
}

std::vector<Batch> drain(Loader& l) {
  std::vector<Batch> out;
  while (auto b = l.next())
    out.push_back(std::move(*b));
  return out;
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].position, b[i].position);
    EXPECT_TRUE(torch::equal(a[i].indices, b[i].indices)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].labels, b[i].labels)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].images, b[i].images)) << "batch " << i;  // bitwise
    EXPECT_EQ(a[i].masks.defined(), b[i].masks.defined());
    if (a[i].masks.defined()) {
      EXPECT_TRUE(torch::equal(a[i].masks, b[i].masks));
    }
    EXPECT_EQ(a[i].semantic_channels.defined(), b[i].semantic_channels.defined());
    if (a[i].semantic_channels.defined()) {
      EXPECT_TRUE(torch::equal(a[i].semantic_channels, b[i].semantic_channels));
    }
    if (a[i].semantic_scores.defined()) {
      EXPECT_TRUE(torch::equal(a[i].semantic_scores, b[i].semantic_scores));
    }
  }
}

TEST(Loader, BatchesAreBitwiseEqualAcrossOneTwoAndFourThreads) {
  Fixture f(23);
  std::vector<Batch> runs[3];
  int k = 0;
  for (int workers : {1, 2, 4}) {
    Loader l(f.catalog, small(workers));
    l.start_epoch(3);
    runs[k++] = drain(l);
  }
  expect_same(runs[0], runs[1]);
  expect_same(runs[0], runs[2]);
}

TEST(Loader, KnownNumberOfBatchesShapesLabelsAndIndices) {
  Fixture f(23);
  Loader l(f.catalog, small(2));
  EXPECT_EQ(l.num_batches(), 5);
  l.start_epoch(0);
  const auto batches = drain(l);
  ASSERT_EQ(batches.size(), 5u);
  std::set<int64_t> seen;
  for (size_t p = 0; p < batches.size(); ++p) {
    const Batch& b = batches[p];
    EXPECT_EQ(b.position, static_cast<int64_t>(p));
    EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{b.size(), 3, 32, 32}));
    EXPECT_EQ(b.images.dtype(), torch::kFloat32);
    EXPECT_EQ(b.labels.dtype(), torch::kInt64);
    EXPECT_EQ(b.indices.dtype(), torch::kInt64);
    EXPECT_FALSE(b.masks.defined());
    EXPECT_FALSE(b.semantic_channels.defined());
    EXPECT_FALSE(b.semantic_scores.defined());
    for (int64_t i = 0; i < b.size(); ++i) {
      const int64_t idx = b.indices[i].item<int64_t>();
      EXPECT_EQ(b.labels[i].item<int64_t>(), idx % 5);
      EXPECT_TRUE(seen.insert(idx).second);
    }
  }
  EXPECT_EQ(batches.back().size(), 3);  // 23 = 4 * 5 + 3, drop_last off
  EXPECT_EQ(seen.size(), 23u);
  EXPECT_FALSE(l.next().has_value());  // stays at the end
}

TEST(Loader, RecycledBuffersNeverOverwriteWhatTheConsumerStillHolds) {
  Fixture f(40);
  auto o = small(2);
  o.prefetch = 1;
  Loader l(f.catalog, o);
  l.start_epoch(0);
  std::vector<torch::Tensor> views, copies;  // views only: the Batch objects are dropped
  while (auto b = l.next()) {
    views.push_back(b->images.select(0, 0));
    copies.push_back(b->images.select(0, 0).clone());
  }
  for (size_t i = 0; i < views.size(); ++i)
    EXPECT_TRUE(torch::equal(views[i], copies[i])) << i;
  // Dropped batches are recycled: a second epoch still yields correct, distinct batches.
  views.clear();
  l.start_epoch(1);
  Loader fresh(f.catalog, o);
  fresh.start_epoch(1);
  while (auto b = l.next()) {
    const auto c = fresh.next();
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(torch::equal(b->images, c->images));
  }
}

TEST(Loader, DropLastDropsThePartialBatch) {
  Fixture f(23);
  auto o = small(2);
  o.drop_last = true;
  Loader l(f.catalog, o);
  EXPECT_EQ(l.num_batches(), 4);
  l.start_epoch(0);
  const auto batches = drain(l);
  ASSERT_EQ(batches.size(), 4u);
  for (const auto& b : batches)
    EXPECT_EQ(b.size(), 5);
}

TEST(Loader, EvalModeEqualsTheTransformFunctionsInCatalogOrder) {
  Fixture f(7);
  auto o = small(2);
  o.mode = LoaderMode::kEval;
  o.shuffle = false;
  Loader l(f.catalog, o);
  l.start_epoch(0);
  const auto batches = drain(l);
  ASSERT_EQ(batches.size(), 2u);
  for (int i = 0; i < 7; ++i) {
    const Batch& b = batches[i / 5];
    EXPECT_EQ(b.indices[i % 5].item<int64_t>(), i);
    const auto expected = to_normalized_tensor(
        eval_transform(Views{decode_rgb(f.image(i)), {}, {}, {}}, o.eval).image);
    EXPECT_TRUE(torch::equal(b.images[i % 5], expected)) << i;
  }
}

TEST(Loader, TrainModeEqualsTheTransformFunctionsWithTheSampleStream) {
  Fixture f(6);
  auto o = small(2);
  o.train.jitter = {};  // (jitter is checked by the thread-independence test)
  Loader l(f.catalog, o);
  l.start_epoch(4);
  const auto b = *l.next();
  for (int64_t k = 0; k < b.size(); ++k) {
    const int64_t idx = b.indices[k].item<int64_t>();
    Rng rng = Rng::for_sample(o.seed, 4, static_cast<uint64_t>(idx));
    const auto v = train_transform(Views{decode_rgb(f.image(static_cast<int>(idx))), {}, {}, {}},
                                   o.train, rng);
    EXPECT_TRUE(torch::equal(b.images[k], to_normalized_tensor(v.image))) << idx;
  }
}

TEST(Loader, ResumeMidEpochGivesExactlyTheRemainingBatches) {
  Fixture f(23);
  Loader full(f.catalog, small(2));
  full.start_epoch(1);
  auto all = drain(full);
  Loader resumed(f.catalog, small(1));
  resumed.start_epoch(1, 3);
  const auto rest = drain(resumed);
  expect_same(std::vector<Batch>(all.begin() + 3, all.end()), rest);
  EXPECT_THROW(resumed.start_epoch(1, 99), ConfigError);
}

TEST(Loader, EpochsShuffleDifferentlyAndRepeatWithTheSameSeed) {
  Fixture f(23);
  Loader l(f.catalog, small(2));
  l.start_epoch(0);
  const auto e0 = drain(l);
  l.start_epoch(1);
  const auto e1 = drain(l);
  l.start_epoch(0);
  const auto again = drain(l);
  EXPECT_FALSE(torch::equal(e0[0].indices, e1[0].indices));
  expect_same(e0, again);
}

TEST(Loader, RanksTogetherSeeEverySampleOnce) {
  Fixture f(23);
  std::multiset<int64_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    auto o = small(1);
    o.rank = rank;
    o.world_size = 3;
    Loader l(f.catalog, o);
    l.start_epoch(2);
    for (const auto& b : drain(l))
      for (int64_t i = 0; i < b.size(); ++i)
        seen.insert(b.indices[i].item<int64_t>());
  }
  EXPECT_EQ(seen.size(), 23u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 23u);
}

// Breaks four files in four ways; returns their indices.
std::set<int64_t> break_files(Fixture& f) {
  std::ofstream(f.image(2), std::ios::trunc).close();  // empty
  {
    std::ifstream in(f.image(5), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::ofstream(f.image(5), std::ios::binary | std::ios::trunc)
        << bytes.substr(0, bytes.size() / 2);
  }
  std::ofstream(f.image(11), std::ios::trunc) << "<html>not an image</html>";  // corrupt
  fs::remove(f.image(17));                                                     // missing
  return {2, 5, 11, 17};
}

TEST(Loader, SkipModeDropsBadFilesShrinkingBatchesWithWarningsSameForAnyThreadCount) {
  Fixture f(23);
  const auto bad = break_files(f);
  std::vector<Batch> runs[2];
  for (int k = 0; k < 2; ++k) {
    Loader l(f.catalog, small(k + 1));
    ::testing::internal::CaptureStderr();
    l.start_epoch(0);
    runs[k] = drain(l);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(l.skipped_this_epoch(), 4);
    for (int i : bad)
      EXPECT_NE(log.find(f.image(i).string()), std::string::npos) << log;
    EXPECT_NE(log.find("epoch 0: skipped 4"), std::string::npos) << log;
    int64_t total = 0;
    for (const auto& b : runs[k]) {
      total += b.size();
      for (int64_t i = 0; i < b.size(); ++i)
        EXPECT_EQ(bad.count(b.indices[i].item<int64_t>()), 0u);
    }
    EXPECT_EQ(total, 19);
  }
  expect_same(runs[0], runs[1]);
}

TEST(Loader, FailModeThrowsDataErrorNamingTheFile) {
  Fixture f(23);
  break_files(f);
  auto o = small(2);
  o.on_error = OnError::kFail;
  o.shuffle = false;
  Loader l(f.catalog, o);
  l.start_epoch(0);
  try {
    drain(l);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(f.image(2).string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
  EXPECT_THROW(l.next(), DataError);  // the failure is sticky, never a hang
}

TEST(Loader, BatchOfOnlyBadFilesIsNotYielded) {
  Fixture f(6);
  for (int i = 0; i < 5; ++i)
    fs::remove(f.image(i));
  auto o = small(2);
  o.shuffle = false;
  Loader l(f.catalog, o);
  ::testing::internal::CaptureStderr();
  l.start_epoch(0);
  const auto batches = drain(l);
  ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].position, 1);
  EXPECT_EQ(l.skipped_this_epoch(), 5);
}

TEST(Loader, AnEpochWithoutOneReadableSampleIsADataErrorNamingTheFirst) {
  Fixture f(6);
  for (int i = 0; i < 6; ++i)
    fs::remove(f.image(i));
  auto o = small(2);
  o.shuffle = false;
  Loader l(f.catalog, o);
  ::testing::internal::CaptureStderr();
  l.start_epoch(0);
  try {
    drain(l);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("all 6 samples"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(f.image(0).string()), std::string::npos) << e.what();
  }
  ::testing::internal::GetCapturedStderr();
}

TEST(Loader, DestroyingOrRestartingMidEpochNeitherHangsNorLeaks) {
  Fixture f(40);
  for (int rep = 0; rep < 5; ++rep) {
    auto o = small(2);
    o.prefetch = 1;
    o.batch_size = 2;
    Loader l(f.catalog, o);
    l.start_epoch(0);
    if (rep % 2) l.next();  // consumer took one; producer blocked on a full queue
    if (rep == 4) {
      l.start_epoch(1, 5);  // restart mid-epoch
      const auto b = l.next();
      ASSERT_TRUE(b.has_value());
      EXPECT_EQ(b->position, 5);
      EXPECT_EQ(b->epoch, 1);
    }
  }  // destructors join the producers
  Loader never_started(f.catalog, small(2));
  EXPECT_FALSE(never_started.next().has_value());
}

TEST(Loader, MasksAndSemanticMapsFollowTheImageGeometry) {
  Fixture f(12, /*masks=*/true, /*top3=*/true);
  for (auto mode : {LoaderMode::kTrain, LoaderMode::kEval}) {
    for (auto source : {SemanticSource::kMasks, SemanticSource::kTop3}) {
      auto o = small(2);
      o.mode = mode;
      o.train.jitter = {};
      o.load_masks = true;
      o.semantic = source;
      Loader l(f.catalog, o);
      l.start_epoch(0);
      int checked = 0;
      for (const auto& b : drain(l)) {
        ASSERT_EQ(b.masks.sizes(), (std::vector<int64_t>{b.size(), 32, 32}));
        ASSERT_EQ(b.masks.dtype(), torch::kInt64);
        const int64_t slots = source == SemanticSource::kTop3 ? 3 : 1;
        ASSERT_EQ(b.semantic_channels.sizes(), (std::vector<int64_t>{b.size(), slots, 32, 32}));
        ASSERT_EQ(b.semantic_channels.dtype(), torch::kUInt8);
        EXPECT_EQ(b.semantic_scores.defined(), source == SemanticSource::kTop3);
        const auto semantic = semantic_slots_to_dense(b.semantic_channels, b.semantic_scores);
        ASSERT_EQ(semantic.sizes(), (std::vector<int64_t>{b.size(), 152, 32, 32}));
        // Undo Normalize on the red channel: grey level = label * 40.
        const auto red = (b.images.select(1, 0) * 0.229f + 0.485f) * 255.0f;
        const auto expected = b.masks.to(torch::kFloat32) * 40.0f;
        // Interior pixels (mask constant in a 3x3 neighbourhood) must agree.
        auto m = b.masks;
        auto same = torch::ones_like(m, torch::kBool);
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx)
            same &= m.roll({dy, dx}, {1, 2}) == m;
        same.select(1, 0).fill_(false);
        same.select(1, 31).fill_(false);
        same.select(2, 0).fill_(false);
        same.select(2, 31).fill_(false);
        const auto diff = (red - expected).abs().masked_select(same);
        checked += static_cast<int>(diff.numel());
        EXPECT_LT(diff.max().item<float>(), 1.5f);
        if (source == SemanticSource::kMasks) {
          EXPECT_TRUE(torch::equal(semantic.argmax(1), b.masks));
          EXPECT_TRUE(torch::equal(semantic.sum(1), torch::ones({b.size(), 32, 32})));
        } else {
          // Rank 1 (file R) = class 9 -> channel 10 with score 0; rank 2 = class 0 ->
          // channel 1 with 0.2; rank 3 = mask - 1 -> channel mask with 0.8.
          EXPECT_TRUE(torch::equal(semantic.argmax(1), b.masks));
          const auto wall = 0.2f + 0.8f * (b.masks == 1).to(torch::kFloat32);
          EXPECT_TRUE(torch::allclose(semantic.select(1, 1), wall));
        }
      }
      EXPECT_GT(checked, 1000);
    }
  }
}

TEST(Loader, ChannelsLastHoldsTheSameValues) {
  Fixture f(10);
  auto o = small(2);
  Loader a(f.catalog, o);
  o.channels_last = true;
  Loader b(f.catalog, o);
  a.start_epoch(0);
  b.start_epoch(0);
  const auto x = drain(a), y = drain(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(y[i].images.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(torch::equal(x[i].images, y[i].images));
  }
}

TEST(Loader, Uint8ImagesNormaliseToExactlyTheFloatBatches) {
  Fixture f(12);
  for (auto mode : {LoaderMode::kTrain, LoaderMode::kEval, LoaderMode::kTenCrop}) {
    for (bool channels_last : {false, true}) {
      if (mode == LoaderMode::kTenCrop && channels_last) continue;  // 5-d: no channels-last
      SCOPED_TRACE(::testing::Message()
                   << "mode " << static_cast<int>(mode) << " channels_last " << channels_last);
      auto o = small(2);
      o.mode = mode;
      o.channels_last = channels_last;
      o.normalize.mean = {0.5f, 0.25f, 0.125f};  // not the defaults: the params must be used
      Loader floats(f.catalog, o);
      o.uint8_images = true;
      Loader pixels(f.catalog, o);
      floats.start_epoch(1);
      pixels.start_epoch(1);
      const auto x = drain(floats), y = drain(pixels);
      ASSERT_EQ(x.size(), y.size());
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_EQ(y[i].images.dtype(), torch::kUInt8);
        if (channels_last) {
          EXPECT_TRUE(y[i].images.is_contiguous(torch::MemoryFormat::ChannelsLast));
        }
        const auto normalised = normalize_batch(y[i].images, o.normalize);
        EXPECT_TRUE(torch::equal(normalised, x[i].images)) << "batch " << i;  // bitwise
        EXPECT_TRUE(torch::equal(y[i].labels, x[i].labels));
      }
    }
  }
  EXPECT_THROW(normalize_batch(torch::zeros({2, 3, 4, 4}), {}), DataError);  // float input
}

// Every augmentation on at once: the float batches equal the transform
// functions applied with each sample's stream, and uint8 batches normalised
// and erased by the consumer (as the trainer does on a GPU) equal them bitwise.
TEST(Loader, AugmentationsFollowTheSampleStreamInFloatAndUint8Batches) {
  Fixture f(12);
  auto o = small(2);
  o.train.crop.scale_min = 0.3, o.train.crop.ratio_max = 2.0;
  o.train.jitter = {0.4, 0.4, 0.4, 0.1};
  o.train.erasing.probability = 0.7;
  Loader floats(f.catalog, o);
  auto u8 = o;
  u8.uint8_images = true;
  Loader pixels(f.catalog, u8);
  floats.start_epoch(2);
  pixels.start_epoch(2);
  const auto x = drain(floats), y = drain(pixels);
  ASSERT_EQ(x.size(), y.size());
  int64_t erased = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_TRUE(y[i].erase.defined());
    EXPECT_FALSE(x[i].erase.defined());
    erased += (y[i].erase.select(1, 2) > 0).sum().item<int64_t>();
    const auto normalised = apply_erasing(normalize_batch(y[i].images, o.normalize), y[i].erase);
    EXPECT_TRUE(torch::equal(normalised, x[i].images)) << "batch " << i;
    for (int64_t k = 0; k < x[i].size(); ++k) {
      const int64_t index = x[i].indices[k].item<int64_t>();
      Rng rng = Rng::for_sample(o.seed, 2, static_cast<uint64_t>(index));
      const cv::Mat image = decode_rgb(f.image(static_cast<int>(index)));
      const TrainGeometry g = sample_train_geometry(image.size(), o.train, rng);
      cv::Mat crop = crop_resize(image, g.box, {32, 32});
      apply_jitter(crop, g.jitter);
      if (g.flip) crop = hflip(crop);
      auto expected = to_normalized_tensor(crop, o.normalize);
      if (g.erase.width > 0) erase_normalized(expected.data_ptr<float>(), 32, g.erase, false);
      EXPECT_TRUE(torch::equal(x[i].images[k], expected)) << "sample " << index;
    }
  }
  EXPECT_GT(erased, 0);
}

TEST(Loader, TenCropBatchesHoldTenCropsPerSample) {
  Fixture f(6);
  auto o = small(2);
  o.mode = LoaderMode::kTenCrop;
  o.shuffle = false;
  Loader l(f.catalog, o);
  l.start_epoch(0);
  const auto b = *l.next();
  EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{5, 10, 3, 32, 32}));
  const auto crops = ten_crop(decode_rgb(f.image(0)), o.eval);
  EXPECT_TRUE(torch::equal(b.images[0][7], to_normalized_tensor(crops[7])));
}

TEST(LoaderOptions, ReadFromTheDataSectionOfTheConfig) {
  Config c("test", "loader options");
  add_data_options(c);
  c.parse({"--data.batch_size=8", "--data.workers=3", "--data.prefetch=2", "--data.seed=42",
           "--data.on_error=fail", "--data.image_size=192", "--data.resize=220"});
  const auto train = loader_options_from_config(c, true);
  EXPECT_EQ(train.batch_size, 8);
  EXPECT_EQ(train.workers, 3);
  EXPECT_EQ(train.prefetch, 2);
  EXPECT_EQ(train.seed, 42u);
  EXPECT_EQ(train.on_error, OnError::kFail);
  EXPECT_EQ(train.train.crop.size, 192);
  EXPECT_EQ(train.mode, LoaderMode::kTrain);
  EXPECT_TRUE(train.shuffle);
  const auto eval = loader_options_from_config(c, false);
  EXPECT_EQ(eval.mode, LoaderMode::kEval);
  EXPECT_FALSE(eval.shuffle);
  EXPECT_EQ(eval.eval.resize, 220);
  EXPECT_EQ(eval.eval.crop, 192);
}

TEST(LoaderOptions, AugmentationOptionsAreReadAndRangesChecked) {
  Config c("test", "loader options");
  add_data_options(c);
  c.parse({"--data.crop_scale=0.25,1", "--data.crop_ratio=2/3,3/2", "--data.brightness=0.4",
           "--data.hue=0.1", "--data.random_erasing=0.25", "--data.erasing_scale=0.05,0.2"});
  const auto o = loader_options_from_config(c, true);
  EXPECT_EQ(o.train.crop.scale_min, 0.25);
  EXPECT_EQ(o.train.crop.ratio_min, 2.0 / 3.0);
  EXPECT_EQ(o.train.crop.ratio_max, 1.5);
  EXPECT_EQ(o.train.jitter.brightness, 0.4);
  EXPECT_EQ(o.train.jitter.contrast, 0.0);
  EXPECT_EQ(o.train.jitter.hue, 0.1);
  EXPECT_EQ(o.train.erasing.probability, 0.25);
  EXPECT_EQ(o.train.erasing.scale_max, 0.2);
  EXPECT_EQ(o.train.erasing.ratio_max, 3.3);
  // The defaults are torchvision's: the official recipes are unchanged.
  Config d("test", "loader options");
  add_data_options(d);
  d.parse({});
  const auto plain = loader_options_from_config(d, true);
  EXPECT_EQ(plain.train.crop.scale_min, 0.08);
  EXPECT_EQ(plain.train.crop.ratio_min, 3.0 / 4.0);
  EXPECT_EQ(plain.train.crop.ratio_max, 4.0 / 3.0);
  EXPECT_FALSE(plain.train.jitter.enabled());
  EXPECT_EQ(plain.train.erasing.probability, 0.0);
  for (const char* bad : {"--data.crop_scale=0.9,0.2", "--data.crop_scale=0.5", "--data.hue=0.7",
                          "--data.crop_ratio=a,2"}) {
    Config b("test", "loader options");
    add_data_options(b);
    // Refused by the option schema as the value is read, naming it.
    EXPECT_THROW(
        {
          b.parse({bad});
          loader_options_from_config(b, true);
        },
        ConfigError)
        << bad;
  }
}

TEST(Loader, InconsistentOptionsAreConfigErrors) {
  Fixture f(3);
  auto o = small(2);
  o.load_masks = true;
  EXPECT_THROW(Loader(f.catalog, o), ConfigError);
  o = small(0);
  EXPECT_THROW(Loader(f.catalog, o), ConfigError);
  o = small(2);
  o.semantic = SemanticSource::kTop3;
  EXPECT_THROW(Loader(f.catalog, o), ConfigError);
  EXPECT_THROW(parse_on_error("ignore"), ConfigError);
}

}  // namespace
}  // namespace scenery::data
