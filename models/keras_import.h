// Importing the Keras ports of the Places-CNNs (VGG16-Places365 and
// VGG16-Hybrid1365, .h5 files written by Keras' save_weights or save) into
// torchvision's vgg16, through the HDF5 C library.
//
// The file decides the layout (FORMATS.md):
//  - layers conv1_1 .. conv5_3, fc1, fc2, predictions (or Keras' own
//    block1_conv1 .. block5_conv3 names), each with its kernel and bias;
//  - convolution kernels are (kh, kw, in, out) (Keras 2, and Keras 1 "tf"
//    dimension ordering) or (out, in, kh, kw) (Keras 1 "th"), told apart by
//    their shape;
//  - the backend attribute "theano" means the kernels were trained for true
//    convolution: they are flipped in both spatial axes for torch's correlation;
//  - fc1 reads the flattened last pooling map: channels-last files (data_format
//    channels_last / dim_ordering tf, and every weights-only Keras 2 file)
//    flatten H x W x C, so its rows are re-ordered to torch's C x H x W.
// The class count comes from the predictions layer (365, or 1365 for the hybrid).
// The port's weights are the Caffe VGG16-Places release's, whose conv1 reads
// BGR pixels: with `bgr_input` conv1's input channels are flipped so the
// checkpoint takes RGB like every other (as import-caffe does).
#pragma once

#include <filesystem>
#include <string>

#include "models/checkpoint.h"
#include "models/scene_model.h"

namespace scenery::models {

struct KerasFileInfo {
  std::string backend;  // "tensorflow", "theano", ... ("" when the file does not say)
  bool channels_last = true;
  bool kernels_oihw = false;  // Keras 1 "th" kernels
  int64_t num_classes = 0;    // the predictions layer's outputs
};

// Reads what import_keras_vgg16 needs to know before building the model.
// Throws CheckpointError naming the file when it is not a Keras VGG16 weight file.
KerasFileInfo inspect_keras_vgg16(const std::filesystem::path& h5);

// Copies every layer's weights into a vgg16 with info.num_classes classes.
// Throws ModelError for another arch, CheckpointError naming the layer for a
// missing layer or a shape that does not fit.
LoadReport import_keras_vgg16(SceneModel& model, const std::filesystem::path& h5,
                              bool bgr_input = true);

// Whether this build has the HDF5 library (libhdf5-dev); without it the two
// functions above throw.
bool keras_import_available();

}  // namespace scenery::models
