// Display names of ADE20K's object classes.
//
// objectInfo150.csv joins the words of a name and its synonyms alike with ';'
// ("coffee;table;cocktail;table"), so the text before the first ';' is not
// always the name ("coffee"), and two classes can even share it ("screen" for
// the screen door and the projection screen). For the official names whose
// first synonym has several words, this returns that synonym ("coffee table",
// as ADE20K's objectInfo150.txt spells it); for any other name, the text up to
// its first ';'.
#pragma once

#include <string>

namespace scenery::data {

std::string ade20k_display_name(const std::string& csv_name);

}  // namespace scenery::data
