// The [data] section: which dataset, where, and how it is loaded. Each option is
// declared here, with what its value must be, next to the code that reads it;
// the defaults are those of LoaderOptions (data/loader.h) and of the transform
// parameters (data/transforms.h), written once there.
#pragma once

#include "core/config.h"
#include "data/loader.h"

namespace scenery::data {

// Block shuffle of sharded datasets (data/sampler.h): 64 consecutive samples
// (about 1.5 MB of 256 px JPEGs) per read run, shuffled in windows of 8192
// (timm's WebDataset shuffle buffer).
inline constexpr int64_t kShardShuffleBlock = 64;
inline constexpr int64_t kShardShuffleWindow = 8192;

// Registers the [data] section.
void add_data_options(Config& config);

// The [data] loading options (batch_size, workers, prefetch, seed, on_error,
// max_image_pixels, image_size, resize and, for training, the augmentations)
// applied to LoaderOptions' defaults; `train` picks kTrain + shuffle,
// otherwise kEval without shuffling.
LoaderOptions loader_options_from_config(const Config& config, bool train);

// data.on_error's names.
const Choices<OnError>& on_error_choices();
OnError parse_on_error(const std::string& name);  // ConfigError naming the choices otherwise

}  // namespace scenery::data
