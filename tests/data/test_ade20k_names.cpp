#include <gtest/gtest.h>

#include <set>
#include <string>

#include "data/ade20k_names.h"
#include "data/synth_names.h"

namespace scenery::data {
namespace {

TEST(Ade20kNames, MultiWordFirstSynonymsAreWholeNames) {
  EXPECT_EQ(ade20k_display_name("coffee;table;cocktail;table"), "coffee table");
  EXPECT_EQ(ade20k_display_name("screen;door;screen"), "screen door");
  EXPECT_EQ(ade20k_display_name("screen;silver;screen;projection;screen"), "screen");
  EXPECT_EQ(ade20k_display_name("airplane;aeroplane;plane"), "airplane");
  EXPECT_EQ(ade20k_display_name("wall"), "wall");
  // A user's own list keeps the rule: the text up to the first ';'.
  EXPECT_EQ(ade20k_display_name("my;thing"), "my");
  EXPECT_EQ(ade20k_display_name(""), "");
}

// Over the 150 official names (the list the synthetic datasets write): no two
// classes share a display name, and each is the name's first words.
TEST(Ade20kNames, OfficialNamesGiveDistinctPrefixes) {
  std::set<std::string> seen;
  for (const auto& object : synth::ade_objects()) {
    const std::string csv = object.name;
    const std::string display = ade20k_display_name(csv);
    std::string joined = display;
    for (char& c : joined)
      c = c == ' ' ? ';' : c;
    EXPECT_EQ(csv.compare(0, joined.size(), joined), 0) << csv << " -> " << display;
    EXPECT_TRUE(csv.size() == joined.size() || csv[joined.size()] == ';') << csv;
    EXPECT_TRUE(seen.insert(display).second) << "two classes called '" << display << "'";
  }
  EXPECT_EQ(seen.size(), 150u);
}

}  // namespace
}  // namespace scenery::data
