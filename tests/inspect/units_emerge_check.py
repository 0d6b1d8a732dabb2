#!/usr/bin/env python3
"""Checks the claim of "Object Detectors Emerge in Deep Scene CNNs" on synthetic data.

Reads the ADE20K-layout dataset (sceneCategories.txt, the validation
annotations) and the units.csv of a trained and of a randomly initialised
network, and the trained network's minimal.csv; prints the numbers and exits 1
unless the trained network has clearly more detectors, they detect the
scene-defining objects, and its minimal images keep those objects far more
often than chance.

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


def read_scenes(root: Path):
    """image id -> scene name, from sceneCategories.txt."""
    return dict(line.split() for line in (root / "sceneCategories.txt").read_text().splitlines()
                if line.strip())


def scene_defining(root: Path, scenes, min_share=0.6, min_presence=0.5):
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


def minimal_keeps_defining(scenes, minimal_csv: Path, defining):
    """Over the correctly classified images that contain an object defining
    their scene: the share of minimal images keeping one, the share a random
    choice of the same number of segments would keep, and how often a defining
    object's segment survives against any other segment (background, clutter,
    outlines)."""
    from math import comb
    observed, chance, n = 0.0, 0.0, 0
    kept_defining, defining_segments, kept_other, other_segments = 0, 0, 0, 0
    with open(minimal_csv) as f:
        for row in csv.DictReader(f):
            if row["correct"] != "1":
                continue
            scene = scenes[Path(row["image"]).stem]
            segs = [tuple(map(int, s.split(":"))) for s in row["segment_classes"].split()]
            mine = [kept for cls, kept in segs if defining.get(cls) == scene]
            if not mine:
                continue
            total, kept, m, kept_mine = len(segs), sum(k for _, k in segs), len(mine), sum(mine)
            n += 1
            observed += 1.0 if kept_mine else 0.0
            chance += 1.0 - comb(total - m, kept) / comb(total, kept)
            kept_defining += kept_mine
            defining_segments += m
            kept_other += kept - kept_mine
            other_segments += total - m
    return {"images": n, "keeping": observed / max(1, n), "chance": chance / max(1, n),
            "defining_survive": kept_defining / max(1, defining_segments),
            "other_survive": kept_other / max(1, other_segments)}


def detectors(units_csv: Path, layer: str):
    with open(units_csv) as f:
        return [r for r in csv.DictReader(f) if r["layer"] == layer and r["detector"] == "1"]


def main():
    root, trained_csv, random_csv = map(Path, sys.argv[1:4])
    layer = sys.argv[4] if len(sys.argv) > 4 else "layer4"
    minimal_csv = Path(sys.argv[5]) if len(sys.argv) > 5 else None
    scenes = read_scenes(root)
    defining = scene_defining(root, scenes)
    trained, random = detectors(trained_csv, layer), detectors(random_csv, layer)
    on_defining = [r for r in trained if int(r["class"]) in defining]
    random_on_defining = [r for r in random if int(r["class"]) in defining]
    share = len(on_defining) / max(1, len(trained))
    print(f"scene-defining classes in the annotations: {len(defining)}")
    print(f"{layer} detectors (IoU >= 0.04): trained {len(trained)}, random init {len(random)}")
    print(f"trained detectors whose best class is scene-defining: {len(on_defining)} "
          f"({share:.1%}); distinct: {len({r['label'] for r in on_defining})}")
    print(f"random-init detectors on scene-defining classes: {len(random_on_defining)}")
    ok = len(trained) >= 2 * max(1, len(random)) and share >= 0.8
    print("detector claim reproduced" if ok else "detector claim NOT reproduced")
    if minimal_csv:
        m = minimal_keeps_defining(scenes, minimal_csv, defining)
        print(f"minimal images keeping an object that defines their scene: {m['keeping']:.1%} "
              f"of {m['images']} (chance, the same number of segments drawn at random: "
              f"{m['chance']:.1%})")
        print(f"segments surviving in minimal images: a scene-defining object's "
              f"{m['defining_survive']:.1%}, any other segment's {m['other_survive']:.1%}")
        # "Far more often than chance": ten points above the random choice of
        # as many segments, and a defining object half again as likely to stay.
        minimal_ok = (m["images"] >= 20 and m["keeping"] >= m["chance"] + 0.10
                      and m["defining_survive"] >= 1.5 * m["other_survive"])
        print("minimal-image claim reproduced" if minimal_ok
              else "minimal-image claim NOT reproduced")
        ok = ok and minimal_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
