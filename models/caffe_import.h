// Importing Caffe Places-CNN weights (.prototxt + .caffemodel) through OpenCV's
// dnn reader into the torchvision-named models.
//
// What maps exactly:
//  - VGG16 (Places205/365-VGG16): conv1_1..conv5_3 -> features.{0,2,5,...,28},
//    fc6/fc7/fc8 -> classifier.{0,3,6}. Caffe's fc6 flattens C x H x W like
//    torch.flatten, so the weights are used as they are.
//  - A Caffe AlexNet with torchvision's shapes (64/192/384/256/256 filters, no groups,
//    no LRN): conv1..5 -> features.{0,3,6,8,10}, fc6/7/8 -> classifier.{1,4,6}.
//  - The original AlexNet/CaffeNet (the official Places205/365-AlexNet .caffemodel:
//    96/256/384/384/256 filters, two-group conv2/conv4/conv5, LRN) into model.arch =
//    caffenet (models/caffenet.h): conv1..5 -> features.{0,4,8,10,12}, fc6/7/8 ->
//    classifier.{0,3,6}; the layer order and LRN parameters are checked first.
//  - BVLC GoogLeNet (Places205/365-GoogLeNet) into model.arch = googlenet_places
//    (models/googlenet_places.h), by layer name; the auxiliary heads' blobs
//    (loss1/*, loss2/*) are skipped.
// What does NOT map: that CaffeNet into torchvision's alexnet (no torchvision AlexNet
// computes the same function): refused with a ModelError naming caffenet, rather than
// loaded by shape luck.
//
// Caffe models take BGR input in [0, 255] minus a mean; the importer flips conv1's
// input channels so the model takes RGB, and caffe_input_normalization() gives the
// CheckpointMeta mean/std that reproduce Caffe's preprocessing from [0, 1] RGB pixels.
#pragma once

#include <array>
#include <filesystem>

#include "models/checkpoint.h"
#include "models/scene_model.h"

namespace scenery::models {

// Loads every Convolution/InnerProduct blob, in network order, onto the model's
// conv and linear layers (caffenet, alexnet, vgg16), or by name (googlenet_places). Throws
// ModelError for an unsupported arch or Caffe network, CheckpointError for an unreadable file or a
// shape mismatch.
LoadReport import_caffe_weights(SceneModel& model, const std::filesystem::path& prototxt,
                                const std::filesystem::path& caffemodel);

// mean/std on [0, 1] RGB pixels equivalent to Caffe's `255 * bgr - mean_bgr`.
void caffe_input_normalization(const std::array<double, 3>& mean_bgr, CheckpointMeta& meta);

}  // namespace scenery::models
