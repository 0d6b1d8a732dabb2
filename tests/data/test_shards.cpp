// WebDataset shards: the tar reader and writer against Python's tarfile, the
// pack -> read round trip against the per-file catalog, the sample order
// (exactly once per epoch for any world size), and every fault a shard can hold.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "core/error.h"
#include "data/catalog_readers.h"
#include "data/data_test_helpers.h"
#include "data/loader.h"
#include "data/sample_bytes.h"
#include "data/sampler.h"
#include "data/shard_index.h"
#include "data/shard_pack.h"
#include "data/shard_pattern.h"
#include "data/tar_reader.h"
#include "data/tar_writer.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {

namespace fs = std::filesystem;
using scenery::testing::TempDir;

std::string shard_file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shard_member_text(const fs::path& tar, const TarMember& m) {
  return shard_file_bytes(tar).substr(m.data_offset, m.size);
}

std::string shard_jpeg_bytes() {
  const auto bytes = testing::encoded_noise(".jpg");
  return std::string(bytes.begin(), bytes.end());
}

PackOptions shard_pack_options(const fs::path& out, int64_t per_shard) {
  PackOptions o;
  o.out = out;
  o.shard_samples = per_shard;
  return o;
}

CatalogSpec shard_spec(const fs::path& root, const std::string& split = "train") {
  CatalogSpec s;
  s.dataset = "webdataset";
  s.root = root;
  s.split = split;
  return s;
}

std::string shard_python(const std::string& script_and_args) {
  const auto r = scenery::testing::run_command("python3 " + script_and_args + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

// --- tar ---------------------------------------------------------------------

TEST(Shards, TarWriterOutputReadsBackInPythonsTarfileByteForByte) {
  TempDir dir;
  const fs::path tar = dir / "a.tar";
  const std::string long_name = std::string(130, 'x') + "/k.jpg";
  {
    TarWriter w(tar);
    w.add("k1.jpg", "hello");
    w.add(long_name, std::string(1000, '\x7f'));
    w.add("k1.cls", "");
    w.finish();
  }
  const std::string out = shard_python(
      "-c \"import tarfile,sys; t=tarfile.open(sys.argv[1]); "
      "[print(m.name, m.size, m.mode, m.mtime, m.uid, sum(t.extractfile(m).read())) for m in "
      "t]\" " +
      tar.string());
  EXPECT_EQ(out,
            "k1.jpg 5 420 0 0 532\n" + long_name + " 1000 420 0 0 127000\nk1.cls 0 420 0 0 0\n");
  const TarScan scan = scan_tar_file(tar.string());
  ASSERT_EQ(scan.members.size(), 3u);
  EXPECT_TRUE(scan.has_end_marker);
  EXPECT_TRUE(scan.damage.empty());
  EXPECT_EQ(scan.members[1].name, long_name);
  EXPECT_EQ(shard_member_text(tar, scan.members[0]), "hello");
  EXPECT_EQ(shard_member_text(tar, scan.members[1]), std::string(1000, '\x7f'));
}

// Shards written by Python's tarfile in each of its formats read unchanged
// (PAX long names, GNU 'L' long names, plain ustar), other members ignored.
TEST(Shards, PythonTarfileShardsInEveryFormatReadUnchanged) {
  TempDir dir;
  testing::make_synth("places365", dir / "src", 2, 2);
  const fs::path images = dir / "flat";
  fs::create_directories(images);
  int copied = 0;
  const Catalog src = open_catalog(testing::spec("places365", dir / "src"));
  for (size_t i = 0; i < src.size(); ++i)
    fs::copy_file(src.at(i).image, images / ("img" + std::to_string(copied++) + ".jpg"));
  ASSERT_EQ(copied, 4);
  for (const std::string format : {"pax", "gnu", "ustar"}) {
    SCOPED_TRACE(format);
    const fs::path out = dir / format;
    const std::string listing =
        shard_python(std::string(SCENERY_SOURCE_DIR) + "/tests/data/write_wds_shards.py " +
                     out.string() + " " + format + " " + images.string());
    std::map<std::string, std::pair<int64_t, uint64_t>> expected;  // key -> label, size
    std::istringstream lines(listing);
    std::string shard, key;
    int64_t label = 0;
    uint64_t size = 0;
    while (lines >> shard >> key >> label >> size)
      expected[key] = {label, size};
    ASSERT_EQ(expected.size(), 4u) << listing;
    CatalogSpec s = shard_spec(out);
    s.shards = "py-{000000..000001}.tar";
    const Catalog c = open_catalog(s);
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c.num_classes(), 3);  // labels 0..2, named by number without an info file
    for (size_t i = 0; i < c.size(); ++i) {
      const Sample sample = c.at(i);
      const std::string k = sample.image.lexically_relative(sample.shard).generic_string();
      const std::string key_of = k.substr(0, k.size() - 4);
      ASSERT_TRUE(expected.count(key_of)) << k;
      EXPECT_EQ(sample.label, expected[key_of].first);
      EXPECT_EQ(read_sample_bytes(sample, SampleFile::kImage, 0).size(), expected[key_of].second);
    }
    EXPECT_TRUE(fs::exists(out / "py-000000.tar.idx"));  // indexed by one scan, kept beside
  }
}

// GNU tar's own archives (GNU format with 'L' long names, and POSIX/pax) read too.
TEST(Shards, GnuTarArchivesReadUnchanged) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  const std::string long_dir = std::string(110, 'g');
  for (const std::string& key : {std::string("a"), long_dir + "/b"}) {
    scenery::testing::write_text(dir / "files" / (key + ".jpg"), jpg);
    scenery::testing::write_text(dir / "files" / (key + ".cls"), "1");
  }
  for (const std::string format : {"gnu", "posix"}) {
    fs::create_directories(dir / format);
    const auto r = scenery::testing::run_command(
        "tar -C '" + (dir / "files").string() + "' --format=" + format + " -cf '" +
        (dir / format / "train-000000.tar").string() + "' a.jpg a.cls " + long_dir + "/b.jpg " +
        long_dir + "/b.cls 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const Catalog c = open_catalog(shard_spec(dir / format));
    ASSERT_EQ(c.size(), 2u) << format;
    EXPECT_EQ(c.at(1).image.lexically_relative(c.at(1).shard).generic_string(),
              long_dir + "/b.jpg");
    EXPECT_EQ(c.label(1), 1);
    EXPECT_EQ(read_sample_bytes(c.at(1), SampleFile::kImage, 0),
              std::vector<uint8_t>(jpg.begin(), jpg.end()));
  }
}

// --- pack round trip -----------------------------------------------------------

TEST(Shards, PackedPlacesReadsBackEqualToThePerFileCatalog) {
  TempDir dir;
  testing::make_synth("places365", dir / "src", 3, 7);
  const Catalog files = open_catalog(testing::spec("places365", dir / "src"));
  const PackResult r = pack_shards(files, shard_pack_options(dir / "wds", 5));
  EXPECT_EQ(r.samples, 21);
  EXPECT_EQ(r.shards, 5);
  const Catalog shards = open_catalog(shard_spec(dir / "wds"));
  ASSERT_EQ(shards.size(), files.size());
  EXPECT_EQ(shards.class_names(), files.class_names());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(shards.label(i), files.label(i));
    EXPECT_EQ(read_sample_bytes(shards.at(i), SampleFile::kImage, 0),
              read_file_bytes(files.at(i).image, 0));
    EXPECT_EQ(shards.at(i).image.filename(), files.at(i).image.filename());
  }
}

TEST(Shards, PackedAde20kCarriesMasksAndSemanticMaps) {
  TempDir dir;
  SynthOptions so;
  so.layout = "ade20k";
  so.out = dir / "src";
  so.classes = 2;
  so.per_class = 3;
  so.size = 48;
  so.semantic_maps = true;
  write_synthetic_dataset(so);
  CatalogSpec fs_spec = testing::spec("ade20k", dir / "src");
  const Catalog files = open_catalog(fs_spec);
  ASSERT_TRUE(files.has_semantic_maps());
  pack_shards(files, shard_pack_options(dir / "wds", 4));
  const Catalog shards = open_catalog(shard_spec(dir / "wds"));
  ASSERT_EQ(shards.size(), files.size());
  EXPECT_TRUE(shards.has_masks());
  EXPECT_TRUE(shards.has_semantic_maps());
  EXPECT_EQ(shards.object_names(), files.object_names());
  for (size_t i = 0; i < files.size(); ++i)
    for (SampleFile f : {SampleFile::kImage, SampleFile::kMask, SampleFile::kSemanticClasses,
                         SampleFile::kSemanticScores})
      EXPECT_EQ(read_sample_bytes(shards.at(i), f, 0), read_file_bytes(files.at(i).file(f), 0));
}

TEST(Shards, PackIsDeterministicAndResumesAfterAnInterruption) {
  TempDir dir;
  testing::make_synth("places365", dir / "src", 2, 9);
  const Catalog files = open_catalog(testing::spec("places365", dir / "src"));
  PackOptions o = shard_pack_options(dir / "a", 0);
  o.shard_bytes = 8 << 10;  // a few samples a shard
  o.shuffle = true;
  o.seed = 3;
  const PackResult first = pack_shards(files, o);
  ASSERT_GE(first.shards, 3);
  o.out = dir / "b";
  pack_shards(files, o);
  for (const auto& name : first.shard_names)
    EXPECT_EQ(shard_file_bytes(dir / "a" / name), shard_file_bytes(dir / "b" / name)) << name;
  // Interrupted after two shards: the last ones gone, a temp file left.
  for (size_t k = 2; k < first.shard_names.size(); ++k) {
    fs::remove(dir / "b" / first.shard_names[k]);
    fs::remove(dir / "b" / (first.shard_names[k] + ".idx"));
  }
  const PackResult resumed = pack_shards(files, o);
  EXPECT_EQ(resumed.shards_kept, 2);
  EXPECT_EQ(resumed.samples, first.samples);
  for (const auto& name : first.shard_names)
    EXPECT_EQ(shard_file_bytes(dir / "a" / name), shard_file_bytes(dir / "b" / name)) << name;
  EXPECT_EQ(shard_file_bytes(dir / "a" / "_info.json"), shard_file_bytes(dir / "b" / "_info.json"));
  // Other options into the same folder are refused, naming the record.
  o.seed = 4;
  try {
    pack_shards(files, o);
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.pack.json"), std::string::npos) << e.what();
  }
}

TEST(Shards, PackSkipsADamagedInputAndNamesIt) {
  TempDir dir;
  testing::make_synth("places365", dir / "src", 2, 4);
  const Catalog files = open_catalog(testing::spec("places365", dir / "src"));
  const fs::path broken = files.at(1).image;
  scenery::testing::write_text(broken, "not a jpeg");
  const PackResult r = pack_shards(files, shard_pack_options(dir / "wds", 3));
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.samples, 7);
  PackOptions strict = shard_pack_options(dir / "wds2", 3);
  strict.skip_bad = false;
  try {
    pack_shards(files, strict);
    ADD_FAILURE() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(broken.string()), std::string::npos) << e.what();
  }
}

// --- the order ----------------------------------------------------------------

std::vector<int64_t> shard_rank_epoch(int64_t n, int world, int rank, bool drop_last, int64_t block,
                                      int64_t window, int64_t batch = 4) {
  SamplerOptions o;
  o.batch_size = batch;
  o.seed = 11;
  o.world_size = world;
  o.rank = rank;
  o.drop_last = drop_last;
  o.shuffle_block = block;
  o.shuffle_window = window;
  Sampler s(n, o);
  s.set_epoch(2);
  std::vector<int64_t> out;
  for (int64_t b = 0; b < s.num_batches(); ++b)
    for (int64_t i : s.batch(b))
      out.push_back(i);
  return out;
}

TEST(Shards, EverySampleExactlyOncePerEpochForOneTwoAndThreeRanks) {
  const int64_t n = 103;  // shards of uneven sizes do not matter: the order is over samples
  for (int world : {1, 2, 3}) {
    std::vector<int64_t> all;
    for (int r = 0; r < world; ++r) {
      const auto mine = shard_rank_epoch(n, world, r, false, 8, 32);
      all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<int64_t> expect(n);
    std::iota(expect.begin(), expect.end(), 0);
    EXPECT_EQ(all, expect) << world << " ranks";
  }
  // Fewer samples than ranks: the ranks without one get an empty epoch, none a duplicate.
  EXPECT_EQ(shard_rank_epoch(2, 3, 2, false, 8, 32).size(), 0u);
}

// The same through the loader over shards of 5, 1 and 7 samples (fewer shards
// than ranks would hold as well: samples, not shards, are shared out), with
// two decode threads per rank.
TEST(Shards, TheLoaderReadsEverySampleOnceAcrossRanksOverUnevenShards) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  int k = 0;
  for (int shard = 0; shard < 3; ++shard) {
    std::vector<std::pair<std::string, std::string>> members;
    for (int i = 0; i < std::vector<int>{5, 1, 7}[shard]; ++i, ++k) {
      members.emplace_back(fmt::format("k{:02d}.jpg", k), jpg);
      members.emplace_back(fmt::format("k{:02d}.cls", k), "0");
    }
    TarWriter w(dir / fmt::format("u-{:06d}.tar", shard));
    for (const auto& [name, data] : members)
      w.add(name, data);
    w.finish();
  }
  CatalogSpec s = shard_spec(dir.path());
  s.shards = "u-{000000..000002}.tar";
  const Catalog c = open_catalog(s);
  ASSERT_EQ(c.size(), 13u);
  for (int world : {1, 2, 3}) {
    std::vector<int64_t> seen;
    for (int r = 0; r < world; ++r) {
      LoaderOptions o;
      o.batch_size = 2;
      o.workers = 2;
      o.train.crop.size = 16;
      o.rank = r;
      o.world_size = world;
      o.shuffle_block = 4;
      o.shuffle_window = 8;
      Loader loader(c, o);
      loader.start_epoch(1);
      while (auto b = loader.next())
        for (int64_t i = 0; i < b->indices.size(0); ++i)
          seen.push_back(b->indices[i].item<int64_t>());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(13);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(seen, all) << world << " ranks";
  }
}

TEST(Shards, TheGlobalOrderDoesNotDependOnTheWorldSize) {
  const int64_t n = 96;
  const auto global = epoch_order(n, 11, 2, true, 8, 32);
  for (int world : {1, 2, 3, 4}) {
    std::vector<std::vector<int64_t>> ranks;
    for (int r = 0; r < world; ++r)
      ranks.push_back(shard_rank_epoch(n, world, r, true, 8, 32));
    // Interleaving the ranks' orders gives back the one global order.
    std::vector<int64_t> merged;
    for (size_t k = 0; k < ranks[0].size(); ++k)
      for (int r = 0; r < world; ++r)
        merged.push_back(ranks[r][k]);
    EXPECT_EQ(merged, std::vector<int64_t>(global.begin(), global.begin() + merged.size()))
        << world;
  }
}

// Resuming with another world size: the ranks share out exactly the positions
// not yet consumed, in the same global order.
TEST(Shards, RanksResumingAfterConsumedSamplesTakeTheRestOfTheSameOrder) {
  const int64_t n = 50, consumed = 18;
  const auto global = epoch_order(n, 11, 2, true, 8, 32);
  for (int world : {1, 2, 3}) {
    std::vector<int64_t> placed(n, -1);
    for (int r = 0; r < world; ++r) {
      SamplerOptions o;
      o.batch_size = 4;
      o.seed = 11;
      o.world_size = world;
      o.rank = r;
      o.shuffle_block = 8;
      o.shuffle_window = 32;
      Sampler s(n, o);
      s.set_epoch(2, consumed);
      int64_t k = 0;
      for (int64_t b = 0; b < s.num_batches(); ++b)
        for (int64_t i : s.batch(b))
          placed[consumed + (k++) * world + r] = i;
    }
    for (int64_t p = consumed; p < n; ++p)
      EXPECT_EQ(placed[p], global[p]) << world << " ranks, position " << p;
  }
}

TEST(Shards, BlockShuffleKeepsBlocksTogetherWithoutAWindow) {
  const auto order = epoch_order(40, 6, 0, true, 8, 1);
  for (size_t start = 0; start < order.size(); start += 8) {
    EXPECT_EQ(order[start] % 8, 0);
    for (size_t k = 1; k < 8; ++k)
      EXPECT_EQ(order[start + k], order[start] + static_cast<int64_t>(k));
  }
  EXPECT_NE(order, epoch_order(40, 6, 0, false));
  EXPECT_NE(order, epoch_order(40, 6, 1, true, 8, 1));  // another epoch, another order
}

// --- faults -------------------------------------------------------------------

// A shard of chosen members, written by the project's writer (the faults are
// in the content, not the tar framing).
void shard_with(const fs::path& tar, const std::vector<std::pair<std::string, std::string>>& m) {
  TarWriter w(tar);
  for (const auto& [name, data] : m)
    w.add(name, data);
  w.finish();
}

TEST(Shards, EachFaultOfAShardIsSkippedAndNamedOrStopsUnderFail) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  shard_with(dir / "f-000000.tar", {{"good1.jpg", jpg},
                                    {"good1.cls", "0"},
                                    {"nocls.jpg", jpg},
                                    {"zero.jpg", ""},
                                    {"zero.cls", "1"},
                                    {"badcls.jpg", jpg},
                                    {"badcls.cls", "one"},
                                    {"split.jpg", jpg},
                                    {"other.cls", "1"},
                                    {"other.jpg", jpg},
                                    {"split.cls", "1"},
                                    {"noimage.cls", "1"},
                                    {"noext", "x"},
                                    {"good2.png", jpg},
                                    {"good2.cls", "1"}});
  shard_with(dir / "f-000001.tar", {{"good1.jpg", jpg}, {"good1.cls", "1"}});
  CatalogSpec s = shard_spec(dir.path());
  s.shards = "f-*.tar";
  const Catalog c = open_catalog(s);
  std::vector<std::string> kept;
  for (size_t i = 0; i < c.size(); ++i)
    kept.push_back(c.at(i).image.filename().string());
  // split.jpg's key comes back after other.*: its first part has no label,
  // its second is a fault; nocls has no label in a labelled split; good1 of
  // the second shard repeats a key of the first.
  EXPECT_EQ(kept, (std::vector<std::string>{"good1.jpg", "other.jpg", "good2.png"}));
  s.skip_bad_samples = false;
  const std::string msg = testing::data_error(s);
  EXPECT_NE(msg.find("f-000000.tar/zero.jpg: zero-byte member"), std::string::npos) << msg;
  const ShardIndex index = build_shard_index(dir / "f-000000.tar");
  std::map<std::string, std::string> why;
  for (const auto& f : index.faults)
    why[f.member] = f.reason;
  EXPECT_NE(why["zero.jpg"].find("zero-byte"), std::string::npos);
  EXPECT_NE(why["badcls.cls"].find("not a decimal class index"), std::string::npos);
  EXPECT_NE(why["split.cls"].find("appears again"), std::string::npos);
  EXPECT_NE(why["noimage"].find("no image member"), std::string::npos);
  EXPECT_NE(why["noext"].find("without an extension"), std::string::npos);
}

TEST(Shards, DuplicateKeysAcrossShardsAreFaults) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  shard_with(dir / "d-000000.tar", {{"a.jpg", jpg}, {"a.cls", "0"}});
  shard_with(dir / "d-000001.tar",
             {{"a.jpg", jpg}, {"a.cls", "0"}, {"b.jpg", jpg}, {"b.cls", "0"}});
  CatalogSpec s = shard_spec(dir.path());
  s.shards = "d-{000000..000001}.tar";
  EXPECT_EQ(open_catalog(s).size(), 2u);
  s.skip_bad_samples = false;
  const std::string msg = testing::data_error(s);
  EXPECT_NE(msg.find("duplicate key 'a'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("d-000000.tar"), std::string::npos) << msg;
}

TEST(Shards, ATruncatedShardKeepsItsIntactSamplesAndNamesWhereItBreaks) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  shard_with(dir / "t-000000.tar",
             {{"a.jpg", jpg}, {"a.cls", "0"}, {"b.jpg", jpg}, {"b.cls", "1"}, {"c.jpg", jpg}});
  const std::string whole = shard_file_bytes(dir / "t-000000.tar");
  const TarScan full = scan_tar_file((dir / "t-000000.tar").string());
  // Cut inside c.jpg's data.
  scenery::testing::write_text(dir / "t-000000.tar",
                               whole.substr(0, full.members[4].data_offset + 10));
  CatalogSpec s = shard_spec(dir.path());
  s.shards = "t-000000.tar";
  const Catalog c = open_catalog(s);
  EXPECT_EQ(c.size(), 2u);
  s.skip_bad_samples = false;
  const std::string msg = testing::data_error(s);
  EXPECT_NE(msg.find("c.jpg"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

// Eval-mode loading of two samples a batch, in catalog order.
LoaderOptions shard_eval_loading() {
  LoaderOptions o;
  o.batch_size = 2;
  o.workers = 1;
  o.shuffle = false;
  o.mode = LoaderMode::kEval;
  o.eval.resize = 32;
  o.eval.crop = 32;
  return o;
}

TEST(Shards, AMemberThatIsNotAnImageIsSkippedByTheLoaderNamingShardAndMember) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  shard_with(dir / "n-000000.tar",
             {{"a.jpg", jpg}, {"a.cls", "0"}, {"b.jpg", "plain text"}, {"b.cls", "0"}});
  CatalogSpec s = shard_spec(dir.path());
  s.shards = "n-000000.tar";
  const Catalog c = open_catalog(s);
  LoaderOptions o = shard_eval_loading();
  o.on_error = OnError::kFail;
  Loader loader(c, o);
  loader.start_epoch(0);
  try {
    loader.next();
    ADD_FAILURE() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("n-000000.tar/b.jpg"), std::string::npos) << e.what();
  }
}

TEST(Shards, AShardDeletedMidRunIsNamedAndItsSamplesSkipped) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  shard_with(dir / "m-000000.tar", {{"a.jpg", jpg}, {"a.cls", "0"}});
  shard_with(dir / "m-000001.tar", {{"b.jpg", jpg}, {"b.cls", "0"}});
  CatalogSpec s = shard_spec(dir.path());
  s.shards = "m-*.tar";
  const Catalog c = open_catalog(s);
  fs::remove(dir / "m-000001.tar");
  const Sample gone = c.at(1);
  try {
    read_sample_bytes(gone, SampleFile::kImage, 0);
    ADD_FAILURE() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("m-000001.tar"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  Loader loader(c, shard_eval_loading());
  loader.start_epoch(0);
  const auto batch = loader.next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->labels.size(0), 1);  // a.jpg alone
  EXPECT_EQ(loader.skipped_this_epoch(), 1);
}

// Reading shards never holds a shard in memory: one pread per member, and at
// most `prefetch` batches waiting. The loader's peak memory over a shard of
// ~44 MB of 0.6 MB members is within a few members of its peak over a shard
// of two of them (measured on the whole process, kernel's ru_maxrss).
TEST(Shards, LoaderMemoryDoesNotGrowWithTheShard) {
  TempDir dir;
  cv::Mat noise(720, 720, CV_8UC3);
  cv::RNG rng(3);
  std::vector<std::pair<std::string, std::string>> members;
  for (int i = 0; i < 72; ++i) {
    rng.fill(noise, cv::RNG::UNIFORM, 0, 255);
    std::vector<uint8_t> jpg;
    cv::imencode(".jpg", noise, jpg, {cv::IMWRITE_JPEG_QUALITY, 95});
    members.emplace_back(fmt::format("s{:03d}.jpg", i), std::string(jpg.begin(), jpg.end()));
    members.emplace_back(fmt::format("s{:03d}.cls", i), std::to_string(i % 2));
  }
  fs::create_directories(dir / "big");
  fs::create_directories(dir / "small");
  shard_with(dir / "big" / "train-000000.tar", members);
  shard_with(dir / "small" / "train-000000.tar", std::vector<std::pair<std::string, std::string>>(
                                                     members.begin(), members.begin() + 4));
  ASSERT_GT(fs::file_size(dir / "big" / "train-000000.tar"), 40u << 20);  // 72 x ~0.6 MB
  const auto peak_kb = [&](const fs::path& root) {
    const auto r = scenery::testing::run_command_measured(
        scenery::testing::tool_path("scenery-data") +
        " bench --data.dataset webdataset --data.root '" + root.string() +
        "' --threads 1 --batches 24 --data.batch_size 2 --data.prefetch 1 --data.image_size 64 "
        "--log-level warn");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.peak_rss_kb;
  };
  const int64_t big = peak_kb(dir / "big"), small = peak_kb(dir / "small");
  // Each member decodes to 1.5 MB of pixels; a few in flight, never the 44 MB shard.
  EXPECT_LT(big - small, 20 * 1024) << "big " << big << " kB, small " << small << " kB";
}

// --- indexes and patterns -----------------------------------------------------

TEST(Shards, AStaleOrDamagedIndexIsRebuiltFromTheShard) {
  TempDir dir;
  const std::string jpg = shard_jpeg_bytes();
  const fs::path tar = dir / "i-000000.tar";
  shard_with(tar, {{"a.jpg", jpg}, {"a.cls", "0"}});
  EXPECT_EQ(load_shard_index(tar).samples.size(), 1u);
  const std::string idx = shard_file_bytes(shard_index_path(tar));
  ASSERT_TRUE(read_saved_shard_index(tar).has_value());
  // Every single flipped byte is caught (CRC) and never trusted.
  for (size_t k = 0; k < idx.size(); ++k) {
    std::string bad = idx;
    bad[k] = static_cast<char>(bad[k] ^ 0x20);
    scenery::testing::write_text(shard_index_path(tar), bad);
    EXPECT_FALSE(read_saved_shard_index(tar).has_value()) << k;
  }
  scenery::testing::write_text(shard_index_path(tar), idx.substr(0, idx.size() / 2));
  EXPECT_EQ(load_shard_index(tar).samples.size(), 1u);
  // The shard replaced by another: its index no longer matches and is rebuilt.
  shard_with(tar, {{"a.jpg", jpg}, {"a.cls", "0"}, {"b.jpg", jpg}, {"b.cls", "0"}});
  EXPECT_EQ(load_shard_index(tar).samples.size(), 2u);
}

TEST(Shards, ShardPatternsExpandRangesListsAndGlobs) {
  EXPECT_EQ(
      expand_braces("s-{000008..000011}.tar"),
      (std::vector<std::string>{"s-000008.tar", "s-000009.tar", "s-000010.tar", "s-000011.tar"}));
  EXPECT_EQ(expand_braces("{a,b}-{1..2}"), (std::vector<std::string>{"a-1", "a-2", "b-1", "b-2"}));
  EXPECT_EQ(brace_expansion_size("{a,b}-{1..2}"), 4u);
  EXPECT_EQ(brace_expansion_size("s-{000000..099999}-{0..9}.tar"), 1'000'000u);
  // Counted and refused before a single name is built.
  EXPECT_THROW(brace_expansion_size("s-{0..999999}{0..1}.tar"), ConfigError);
  EXPECT_THROW(expand_braces("s-{0..999999}{0..1}.tar"), ConfigError);
  EXPECT_THROW(expand_braces("s-{1..}.tar"), ConfigError);
  EXPECT_THROW(expand_braces("s-{1..3.tar"), ConfigError);
  TempDir dir;
  for (const char* n : {"x-1.tar", "x-0.tar", "y-0.tar"})
    scenery::testing::write_text(dir / n, "");
  const auto paths = expand_shard_patterns("x-*.tar,y-{0..0}.tar", dir.path());
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0].filename(), "x-0.tar");
  EXPECT_EQ(paths[2].filename(), "y-0.tar");
  EXPECT_THROW(expand_shard_patterns("z-*.tar", dir.path()), DataError);
}

// The loader over shards gives the same batches as over the files they were packed from.
TEST(Shards, LoaderBatchesFromShardsEqualThoseFromFiles) {
  TempDir dir;
  testing::make_synth("places365", dir / "src", 2, 5);
  const Catalog files = open_catalog(testing::spec("places365", dir / "src"));
  pack_shards(files, shard_pack_options(dir / "wds", 3));
  const Catalog shards = open_catalog(shard_spec(dir / "wds"));
  LoaderOptions o;
  o.batch_size = 4;
  o.workers = 2;
  o.seed = 9;
  o.train.crop.size = 32;
  Loader a(files, o), b(shards, o);
  a.start_epoch(1);
  b.start_epoch(1);
  int batches = 0;
  while (auto x = a.next()) {
    auto y = b.next();
    ASSERT_TRUE(y.has_value());
    EXPECT_TRUE(x->images.equal(y->images));
    EXPECT_TRUE(x->labels.equal(y->labels));
    ++batches;
  }
  EXPECT_EQ(batches, 3);
  EXPECT_FALSE(b.next().has_value());
}

}  // namespace
}  // namespace scenery::data
