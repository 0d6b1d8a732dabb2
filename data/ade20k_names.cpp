#include "data/ade20k_names.h"

#include <unordered_map>

namespace scenery::data {

std::string ade20k_display_name(const std::string& csv_name) {
  // The official Name cells whose first synonym is several words long.
  static const std::unordered_map<std::string, std::string> multi_word = {
      {"chest;of;drawers;chest;bureau;dresser", "chest of drawers"},
      {"pool;table;billiard;table;snooker;table", "pool table"},
      {"screen;door;screen", "screen door"},
      {"coffee;table;cocktail;table", "coffee table"},
      {"kitchen;island", "kitchen island"},
      {"swivel;chair", "swivel chair"},
      {"arcade;machine", "arcade machine"},
      {"dirt;track", "dirt track"},
      {"conveyer;belt;conveyor;belt;conveyer;conveyor;transporter", "conveyer belt"},
      {"swimming;pool;swimming;bath;natatorium", "swimming pool"},
      {"trade;name;brand;name;brand;marque", "trade name"},
      {"traffic;light;traffic;signal;stoplight", "traffic light"},
      {"crt;screen", "crt screen"},
      {"bulletin;board;notice;board", "bulletin board"},
  };
  if (const auto it = multi_word.find(csv_name); it != multi_word.end()) return it->second;
  return csv_name.substr(0, csv_name.find(';'));
}

}  // namespace scenery::data
