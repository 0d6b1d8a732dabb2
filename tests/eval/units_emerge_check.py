#!/usr/bin/env python3
"""Checks the claim of "Object Detectors Emerge in Deep Scene CNNs" on synthetic data.

Reads the ADE20K-layout dataset (sceneCategories.txt, the validation
annotations) and the units.csv of a trained and of a randomly initialised
network; prints the numbers and exits 1 unless the trained network has clearly
more detectors and they detect the scene-defining objects.

A class is scene-defining when most validation images that contain it belong
to one scene class, and most images of that scene contain it: computed from the
annotations here, independently of Scenery.
"""
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image


def scene_defining(root: Path, min_share=0.6, min_presence=0.5):
    scenes = dict(line.split() for line in (root / "sceneCategories.txt").read_text().splitlines()
                  if line.strip())
    images_with = defaultdict(Counter)  # class -> scene -> images
    per_scene = Counter()
    for png in sorted((root / "annotations" / "validation").glob("*.png")):
        scene = scenes[png.stem]
        per_scene[scene] += 1
        labels = np.asarray(Image.open(png))
        for c in np.unique(labels):
            if c:
                images_with[int(c)][scene] += 1
    defining = {}
    for c, by_scene in images_with.items():
        scene, n = by_scene.most_common(1)[0]
        if n / sum(by_scene.values()) >= min_share and n / per_scene[scene] >= min_presence:
            defining[c] = scene
    return defining


def detectors(units_csv: Path, layer: str):
    with open(units_csv) as f:
        return [r for r in csv.DictReader(f) if r["layer"] == layer and r["detector"] == "1"]


def main():
    root, trained_csv, random_csv, names_csv = map(Path, sys.argv[1:5])
    layer = sys.argv[5] if len(sys.argv) > 5 else "layer4"
    names = {}
    with open(names_csv) as f:
        for row in csv.DictReader(f):
            names[row["Name"].split(";")[0]] = int(row["Idx"])
    defining = scene_defining(root)
    trained, random = detectors(trained_csv, layer), detectors(random_csv, layer)
    on_defining = [r for r in trained if names.get(r["label"]) in defining]
    random_on_defining = [r for r in random if names.get(r["label"]) in defining]
    share = len(on_defining) / max(1, len(trained))
    print(f"scene-defining classes in the annotations: {len(defining)}")
    print(f"{layer} detectors (IoU >= 0.04): trained {len(trained)}, random init {len(random)}")
    print(f"trained detectors whose best class is scene-defining: {len(on_defining)} "
          f"({share:.1%}); distinct: {len({r['label'] for r in on_defining})}")
    print(f"random-init detectors on scene-defining classes: {len(random_on_defining)}")
    ok = len(trained) >= 2 * max(1, len(random)) and share >= 0.8
    print("claim reproduced" if ok else "claim NOT reproduced")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
