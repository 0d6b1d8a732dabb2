// fuzz_catalog: the dataset list and category files every catalog reader
// parses (Places365, Places205, SUN397, MIT Indoor 67, ADE20K, list). The
// first input byte picks a file of a small valid dataset; the rest replaces
// that file's content, and its reader runs. Any input is read or refused with
// a DataError / ConfigError.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/catalog_readers.h"

namespace {

namespace fs = std::filesystem;
using scenery::data::CatalogSpec;

struct Target {
  const char* file;  // relative to the dataset's root
  const char* valid;
  const char* dataset;
  const char* split;
  scenery::data::Catalog (*read)(const CatalogSpec&);
};

const std::vector<Target>& targets() {
  using namespace scenery::data;
  static const std::vector<Target> t = {
      {"p365/categories_places365.txt", "/a/airfield 0\n/b/bar 1", "places365", "val",
       read_places365},
      {"p365/places365_val.txt", "Places365_val_00000001.jpg 1\n", "places365", "val",
       read_places365},
      {"p205/categoryIndex_places205.csv", "/a/abbey 0\n/b/bar 1\n", "places205", "val",
       read_places205},
      {"p205/trainvalsplit_places205/val_places205.csv", "a/abbey/gsun_0.jpg 0\n", "places205",
       "val", read_places205},
      {"sun/ClassName.txt", "/a/abbey\n", "sun397", "test", read_sun397},
      {"sun/Testing_01.txt", "/a/abbey/sun_a.jpg\n", "sun397", "test", read_sun397},
      {"mit/TestImages.txt", "bar/x y.jpg", "mit67", "test", read_mit67},
      {"ade/sceneCategories.txt", "ADE_val_00000001 bar\n", "ade20k", "val", read_ade20k},
      {"ade/objectInfo150.csv", "Idx,Ratio,Train,Val,Stuff,Name\n1,0.1,1,1,0,wall\n", "ade20k",
       "val", read_ade20k},
      {"list/val.txt", "img/a.jpg 0\nimg/b.jpg cat\n", "list", "val", read_image_list},
  };
  return t;
}

const fs::path& root() {
  static const fs::path r = [] {
    const fs::path dir =
        fs::path("/dev/shm") / ("scenery-fuzz-catalog-" + std::to_string(::getpid()));
    for (const Target& t : targets()) {
      fs::create_directories((dir / t.file).parent_path());
      std::ofstream(dir / t.file) << t.valid;
    }
    for (const char* f : {"sun/a/abbey/sun_a.jpg", "mit/Images/bar/x y.jpg", "list/img/a.jpg",
                          "list/img/b.jpg", "ade/images/validation/ADE_val_00000001.jpg",
                          "ade/annotations/validation/ADE_val_00000001.png"}) {
      fs::create_directories((dir / f).parent_path());
      std::ofstream(dir / f) << "x";
    }
    return dir;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Target& t = targets()[data[0] % targets().size()];
  const fs::path file = root() / t.file;
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  CatalogSpec spec;
  spec.dataset = t.dataset;
  spec.root = root() / fs::path(t.file).begin()->string();
  spec.split = t.split;
  try {
    t.read(spec);
  } catch (const scenery::DataError&) {
  } catch (const scenery::ConfigError&) {
  }
  std::ofstream(file, std::ios::trunc) << t.valid;
  return 0;
}
