"""In Chromium: save drawings in "draw the digit shown" mode, teach the model, see the before/after.

The store starts with a tiny trained MLP and 28 saved drawings (two 0s and two 1s short of three),
so two prompted drawings make the button usable. Screenshots go to test-artifacts/.
"""

import math

import numpy as np
import pytest
from streamlit_server import CHROMIUM_ARGS, ROOT, chromium_or_skip, streamlit_app, wait_idle

from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore
from dlapp.tools.sketches import drawn_digits

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
SLOW = 180_000  # ms: the page imports TensorFlow and the fine-tune trains on a shared 2-core machine
ZERO = [(140 + 60 * math.sin(t / 10 * math.pi), 140 - 90 * math.cos(t / 10 * math.pi)) for t in range(21)]
ONE = [(140, 50), (140, 230)]


def _prepared_store(data_dir) -> None:
    store = RunStore(data_dir)
    config = RunConfig.from_flat(arch="mlp", hidden_units=(32,), dataset="mnist-sample", train_subset=500, epochs=1)
    assert TrainingJob(config, store, "tiny mlp").start().wait(300) == "finished"
    images, labels, _ = drawn_digits(30, seed=5)  # three of each digit
    kept = np.zeros(10, int)
    for image, label in zip(images, labels, strict=True):
        if label > 1 or kept[label] < 2:  # the page will ask for the third 0 and 1
            store.add_drawing(int(label), image)
            kept[label] += 1


def draw(page, canvas, stroke) -> None:
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
    page.mouse.down()
    for x, y in stroke[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()


def save_prompted(page, digit: int, stroke) -> None:
    page.get_by_text(f"Draw a {digit}", exact=True).wait_for()
    page.get_by_text("Draw a digit on the left").wait_for()  # the fresh, empty canvas is on the page
    wait_idle(page)
    page.wait_for_timeout(1500)  # the canvas component mounts after the script run ends
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    draw(page, canvas, stroke)
    page.get_by_text("Probability per class").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Save drawing").click()
    wait_idle(page)


def test_prompted_drawings_then_teaching_shows_before_and_after(tmp_path):
    from playwright.sync_api import sync_playwright

    _prepared_store(tmp_path)
    assert len(RunStore(tmp_path).drawing_ids()) == 28
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_app(tmp_path) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(SLOW)
        page.goto(f"{url}/draw")
        page.get_by_text("Draw the digit shown").click()
        teach = page.get_by_role("button", name="Teach this model my handwriting")
        teach.wait_for()
        assert teach.is_disabled()
        page.screenshot(path=ARTIFACTS / "browser-finetune-prompt.png", full_page=True)
        save_prompted(page, 0, ZERO)
        save_prompted(page, 1, ONE)
        page.get_by_text("Draw a 2", exact=True).wait_for()
        assert np.bincount(RunStore(tmp_path).drawings()[1])[:2].tolist() == [3, 3]
        assert teach.is_enabled()
        teach.click()
        page.get_by_text("Your held-out drawings").wait_for()
        page.get_by_text("MNIST test digits").wait_for()
        assert page.get_by_text("Fine-tuned from run #1 on 20 of your drawings (10 held out).", exact=False).count()
        page.get_by_text("MNIST test digits").scroll_into_view_if_needed()
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "browser-finetune-after.png")
        browser.close()
    child = RunStore(tmp_path).runs()[0]
    assert child.parent_run_id == 1 and child.status == "finished"
