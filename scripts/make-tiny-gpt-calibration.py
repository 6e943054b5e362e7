"""Calibration rows for tiny-gpt: 64 windows of 32 characters from the model's training split.

The shared data file holds only held-out rows; calibrating on them would leak the test set into the
quantization. make_models.py trained on the first 90% of Debian's license texts, so windows are
drawn from there, with a fixed seed. Writes models/tiny-gpt.calibration.json (committed).
"""
import json, os, random
lic = "/usr/share/common-licenses"
text = "".join(open(os.path.join(lic, f)).read() for f in sorted(os.listdir(lic))
               if not os.path.islink(os.path.join(lic, f)))
here = os.path.dirname(os.path.abspath(__file__))
vocab = json.load(open(os.path.join(here, "..", "models", "tiny-gpt.data.json")))["vocab"]
assert vocab == "".join(sorted(set(text))), "license texts differ from the ones tiny-gpt was trained on"
stoi = {c: i for i, c in enumerate(vocab)}
split = int(len(text) * 0.9)
rng = random.Random(7)
rows = []
for _ in range(64):
    i = rng.randrange(split - 33)
    rows.append([stoi[c] for c in text[i:i + 32]])
json.dump({"input": "x", "shape": [32], "calibration": rows,
           "source": "64 seeded windows of the first 90% of /usr/share/common-licenses (tiny-gpt's training split)"},
          open(os.path.join(here, "..", "models", "tiny-gpt.calibration.json"), "w"))
print("wrote", len(rows), "rows")
