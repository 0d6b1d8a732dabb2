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


def minimal_keeps_defining(root: Path, minimal_csv: Path, defining):
    """Share of minimal images that keep a segment of a class defining their
    scene, and the share a random choice of the same number of segments would."""
    from math import comb
    scenes = dict(line.split() for line in (root / "sceneCategories.txt").read_text().splitlines()
                  if line.strip())
    observed, chance, n = 0.0, 0.0, 0
    with open(minimal_csv) as f:
        for row in csv.DictReader(f):
            if row["correct"] != "1":
                continue
            scene = scenes[Path(row["image"]).stem]
            segs = [tuple(map(int, s.split(":"))) for s in row["segment_classes"].split()]
            mine = [kept for cls, kept in segs if defining.get(cls) == scene]
            if not mine:
                continue
            total, kept, m = len(segs), sum(k for _, k in segs), len(mine)
            n += 1
            observed += 1.0 if any(mine) else 0.0
            chance += 1.0 - comb(total - m, kept) / comb(total, kept)
    return n, observed / max(1, n), chance / max(1, n)


def detectors(units_csv: Path, layer: str):
    with open(units_csv) as f:
        return [r for r in csv.DictReader(f) if r["layer"] == layer and r["detector"] == "1"]


def main():
    root, trained_csv, random_csv, names_csv = map(Path, sys.argv[1:5])
    layer = sys.argv[5] if len(sys.argv) > 5 else "layer4"
    minimal_csv = Path(sys.argv[6]) if len(sys.argv) > 6 else None
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
    if minimal_csv:
        n, kept, chance = minimal_keeps_defining(root, minimal_csv, defining)
        # Measured and printed, not asserted: see the README (a family's bare
        # background is itself classified as one of its scenes).
        print(f"minimal images keeping an object that defines their scene: {kept:.1%} of {n} "
              f"(chance, the same number of segments drawn at random: {chance:.1%})")
    print("detector claim reproduced" if ok else "detector claim NOT reproduced")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
