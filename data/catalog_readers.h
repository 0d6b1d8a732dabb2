// Readers of the official dataset layouts, and the factory that picks one by
// name (config keys data.dataset, data.root, data.split, data.partition, ...).
//
// Every reader throws DataError naming file:line and expected vs got for a
// malformed line, a label out of range, a class missing from the class list,
// a missing list/category file and an empty split. Readers of big lists
// (Places365/205) do not touch the image files: `scenery-data check` does.
// Readers of small lists (SUN397, MIT67, ADE20K, folder, list under 100k
// lines) check that every listed file exists.
//
// The on-disk layout each reader expects is documented above it; see also
// /work/shared/FORMATS.md.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/catalog.h"

namespace scenery::data {

struct CatalogSpec {
  std::string dataset = "places365";  // one of catalog_datasets()
  std::filesystem::path root;         // the extracted archive
  std::string split = "train";        // train, val or test (what the dataset has)
  int partition = 1;                  // SUN397 Training_NN / Testing_NN, 1..10
  bool large = false;                 // Places365: data_large/val_large/test_large
  std::filesystem::path list;         // `list`: list file (relative to root); default <split>.txt
  std::filesystem::path class_file;   // `list`: optional class names, one per line
  bool semantic_maps = true;          // ADE20K: fill noisy_* maps when the folders exist
  std::string shards;                 // webdataset: data/shard_pattern.h; default <split>-*.tar
  bool skip_bad_samples = true;       // webdataset: a faulty sample is warned and left out
};

// Valid values of CatalogSpec::dataset, in --help order.
const std::vector<std::string>& catalog_datasets();

// Reads the split `spec` names. Throws ConfigError listing the valid datasets
// (or splits) for an unknown one, DataError for a dataset that does not match
// its layout.
Catalog open_catalog(const CatalogSpec& spec);

// The spec from the [data] options registered by add_data_options().
CatalogSpec catalog_spec_from_config(const Config& config);

// Places365-Standard (root = the folder holding the lists):
//   categories_places365.txt            "/a/airfield 0" (index = line), no final newline
//   places365_train_standard.txt        "/a/airfield/00000001.jpg 0"
//   places365_val.txt                   "Places365_val_00000001.jpg 165"
//   places365_test.txt                  "Places365_test_00000001.jpg" (no label)
//   data_256/ val_256/ test_256/        images (data_large/ ... with spec.large)
// Class names are display names ("apartment_building/outdoor").
Catalog read_places365(const CatalogSpec& spec);

// Places365 "easyformat": root/places365_standard/{train,val}/<class>/<file>
// (root may also be the places365_standard folder itself). <class> is the
// category path without "/x/" and with '/' turned into '-'; bytewise order of
// the folder names is the official index order. Class names are returned in
// the standard display form ('-' back to '/'), so they match read_places365.
Catalog read_places365_easy(const CatalogSpec& spec);

// Places205:
//   categoryIndex_places205.csv         "/a/abbey 0" (root or trainvalsplit_places205/;
//                                       an optional header line is skipped)
//   trainvalsplit_places205/{train,val}_places205.csv
//                                       space-separated "a/abbey/gsun_<hex>.jpg 0"
//   images under root (or root/images256 when that folder exists)
Catalog read_places205(const CatalogSpec& spec);

// SUN397 (root = the SUN397 folder, or its parent):
//   ClassName.txt                       "/a/abbey" (line order = label)
//   Training_NN.txt / Testing_NN.txt    "/a/abbey/sun_aaoktempcmudsvna.jpg"
//                                       (in root or root/Partitions), NN = partition
//   <letter>/<class>[/<sub>]/sun_*.jpg  images
// Splits: train, test. Class = the listed path minus its file name.
Catalog read_sun397(const CatalogSpec& spec);

// MIT Indoor 67:
//   Images/<class>/<file>               class names = sorted folder names of Images/
//   TrainImages.txt / TestImages.txt    "<class>/<file>" per line, no label, no final
//                                       newline; names contain spaces and apostrophes
// Splits: train, test.
Catalog read_mit67(const CatalogSpec& spec);

// ADE20K SceneParsing (root = ADEChallengeData2016):
//   images/{training,validation}/ADE_{train,val}_%08d.jpg
//   annotations/{training,validation}/<same>.png   8-bit, 0 = other, 1..150
//   release_test/testing/ADE_test_%08d.jpg          test split: no labels, no masks
//   sceneCategories.txt                 "ADE_train_00000001 airport_terminal"; scene
//                                       label = index in the sorted unique names
//   objectInfo150.csv                   "Idx,Ratio,Train,Val,Stuff,Name" + 150 rows
//   noisy_annotations_RGB/<split dir>/<base>.png   optional top-3 class maps
//   noisy_scores_RGB/<split dir>/<base>.png        optional top-3 score maps
// Samples follow sceneCategories.txt order (test: sorted file names).
// Catalog::object_names() holds the 150 object classes.
Catalog read_ade20k(const CatalogSpec& spec);

// Class-per-folder tree: root/<class>/**/<image> (or root/<split>/<class>/...
// when root/<split> exists). Class names = sorted folder names.
Catalog read_image_folder(const CatalogSpec& spec);

// A list of "<path> <label>" lines, path relative to root (may contain
// spaces: the label is the last token). The label is an index, or a class
// name when spec.class_file is given or every label is a name.
Catalog read_image_list(const CatalogSpec& spec);

// WebDataset tar shards (data/shard_index.h for the member convention):
//   root/_info.json                     optional: split table, class names (shard_info.h)
//   root/<spec.shards>                  default <split>-*.tar; brace ranges, lists, globs
//   <shard>.idx                         per-shard index, written on first read if absent
// Class names: spec.class_file, else _info.json, else "0".."K-1". Samples
// follow the shards' order. A faulty sample (no image, missing .cls in a
// labelled split, duplicate key, label out of range, damaged tar) is warned and
// left out when spec.skip_bad_samples, else a DataError naming shard and member.
Catalog read_webdataset(const CatalogSpec& spec);

}  // namespace scenery::data
