// Real class names the synthetic generator draws from, so that synthetic
// datasets exercise the same name shapes as the real ones (three-level
// Places names, MIT67 names, ADE20K objects with ';'-joined synonyms).
#pragma once

#include <string>
#include <vector>

namespace scenery::data::synth {

// Places365/Places205/SUN397-style category paths ("/a/airfield",
// "/b/bus_station/indoor"), sorted so that the easyformat folder names
// ('/' after the letter dropped, others -> '-') are in bytewise order.
const std::vector<std::string>& places_categories();

// The 67 MIT Indoor class folder names, sorted.
const std::vector<std::string>& mit67_classes();

// ADE20K scene names as they appear in sceneCategories.txt, sorted.
const std::vector<std::string>& ade_scene_names();

struct AdeObject {
  const char* name;  // objectInfo150.csv Name column (synonyms joined by ';')
  bool stuff;        // amorphous region (wall, sky, grass) rather than a thing
};
// The 150 ADE20K object classes; entry i is mask value i + 1.
const std::vector<AdeObject>& ade_objects();

}  // namespace scenery::data::synth
