"""Real inputs the zoo feeds its models: photographs, sentences, JPEG bytes. Torch-free (PIL, numpy, sklearn)."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

IMAGENET_MEAN, IMAGENET_STD = (123.7, 116.3, 103.5), (58.4, 57.1, 57.4)  # torchvision's, in 0-255 pixel units
SENTENCES = (
    "The edge device classifies the image before any byte leaves the camera.",
    "Cloud servers batch requests from many clients to keep the accelerator busy.",
    "A fraud score must arrive inside the card authorization window.",
    "Latency budgets decide where a model can run.",
    "The robot arm stops when the vision model sees a person in the cell.",
    "Network round trips across an ocean take longer than most small models.",
    "Quantized weights shrink the model and speed up integer kernels.",
    "Privacy rules can forbid raw images from leaving the hospital.",
    "Turn on the kitchen lights and set them to half brightness.",
    "What is the weather going to be like tomorrow morning?",
    "Remind me to call the dentist at four in the afternoon.",
    "The shipment left the warehouse two days later than planned.",
    "A sudden spike in card transactions from abroad looks suspicious.",
    "The conveyor belt stopped because a sensor reported a jam.",
    "Please translate this paragraph into Spanish before the meeting.",
    "The radiologist flagged the scan for an urgent second opinion.",
    "Battery life drops quickly when the screen stays at full brightness.",
    "The train to the airport leaves every fifteen minutes.",
    "Our quarterly revenue grew faster than the market expected.",
    "The patient reported mild chest pain after climbing the stairs.",
    "Add two cups of flour and stir until the batter is smooth.",
    "The drone lost its signal behind the ridge and returned home.",
    "Firmware updates are rolled out to one region at a time.",
    "He scored the winning goal in the last minute of extra time.",
    "The museum is closed on Mondays and public holidays.",
    "Cold chain sensors record the temperature of every container.",
    "The wind turbine feathered its blades during the storm.",
    "Customers can return unused items within thirty days.",
    "The satellite link is slow but it works in the desert.",
    "A cat is sleeping on the warm windowsill in the sun.",
    "Inference on the phone keeps working in airplane mode.",
    "The legal team must review every contract before signing.",
    "Traffic on the bridge is heavy between seven and nine.",
    "The greenhouse opens its vents when the humidity rises.",
    "Each model version is tested against the same benchmark set.",
    "The library extended its opening hours during exams.",
    "Solar panels on the roof cover most of the daytime load.",
    "The security camera recorded motion near the back door.",
    "Microservices talk to each other over a private network.",
    "The orchestra tuned their instruments before the concert began.",
)

# The quantizer calibrates MiniLM on these alone, so no sentence it checks or evaluates on is ever seen in calibration.
CALIBRATION_SENTENCES = (
    "Our bakery opens at seven and sells out of rye bread by noon on Saturdays.",
    "The river flooded the lower fields twice this spring after heavy rain upstream.",
    "She repainted the garden fence a pale shade of green last weekend.",
    "Please return the library books before the end of the month to avoid a fine.",
    "The goalkeeper saved a penalty in the last minute of extra time.",
    "Mix the flour and butter until the dough feels like coarse sand.",
    "A comet was visible to the naked eye for almost two weeks in March.",
    "The committee postponed its vote on the new parking rules until autumn.",
    "Hikers should carry water and a map when crossing the high plateau.",
    "The old lighthouse was converted into a small museum about shipwrecks.",
    "He forgot his umbrella on the train and walked home in the drizzle.",
    "Tomatoes ripen faster when they are kept next to bananas on the counter.",
    "The ferry to the island runs every hour except on public holidays.",
    "Local elections drew the highest turnout the town had seen in decades.",
    "The puppy chewed through the garden hose while everyone was at lunch.",
    "Glaciers in the valley have retreated several hundred meters since 1950.",
)


def cosine_similarity(reference: np.ndarray, output: np.ndarray) -> tuple[str, float]:
    """Mean cosine similarity between matching rows."""
    cos = (reference * output).sum(-1) / (np.linalg.norm(reference, axis=-1) * np.linalg.norm(output, axis=-1))
    return "cosine_similarity", float(cos.mean())


# Twelve natural photographs that packages ship (scikit-learn's two, scikit-image's ten; never downloaded), split by
# scene: int8 calibration sees only CALIBRATION_SCENES, and every check or evaluation uses only EVALUATION_SCENES.
CALIBRATION_SCENES = ("china", "coffee", "motorcycle", "hubble", "ihc", "camera")
EVALUATION_SCENES = ("flower", "astronaut", "chelsea", "rocket", "retina", "coins")


@cache
def photo(scene: str) -> np.ndarray:
    """One shipped photograph as uint8 HWC RGB (greyscale ones repeated over three channels)."""
    if scene in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{scene}.jpg")
    from skimage import data

    loaders = {
        "coffee": data.coffee,
        "motorcycle": lambda: data.stereo_motorcycle()[0],
        "hubble": data.hubble_deep_field,
        "ihc": data.immunohistochemistry,
        "camera": data.camera,
        "astronaut": data.astronaut,
        "chelsea": data.chelsea,
        "rocket": data.rocket,
        "retina": data.retina,
        "coins": data.coins,
    }
    image = np.asarray(loaders[scene]())
    return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]


def photo_crops(
    n: int, size: int, seed: int = 0, offset: int = 0, scenes: tuple[str, ...] = EVALUATION_SCENES
) -> np.ndarray:
    """n crops of the scenes' photos, resized to size×size uint8: crop i is of scene i mod len(scenes), the whole
    photo's central square the first time round and a random square of 30-100% of its short side after that."""
    rng = np.random.default_rng(seed + 7919 * offset)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        image = photo(scenes[(i + offset) % len(scenes)])
        h, w, _ = image.shape
        first = i + offset < len(scenes)
        side = min(h, w) if first else int(min(h, w) * rng.uniform(0.3, 1.0))
        if first:
            y, x = (h - side) // 2, (w - side) // 2
        else:
            y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = Image.fromarray(image[y : y + side, x : x + side]).resize((size, size), Image.BILINEAR)
        out[i] = np.asarray(crop)
    return out


def encode_jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
