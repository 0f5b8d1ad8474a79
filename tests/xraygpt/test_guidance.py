"""Image guidance at decoding time: the arithmetic, and that a real tiny model decodes with it as specified."""

import math

import torch

from radscribe.xraygpt.guidance import gated_weights, guided_logits


def test_weight_zero_is_plain_decoding():
    logits = torch.randn(50)
    assert torch.equal(guided_logits(logits, torch.randn(50), 0.0), logits)


def test_guidance_raises_what_the_image_adds_and_drops_implausible_tokens():
    with_image = torch.log(torch.tensor([0.50, 0.40, 0.09, 0.01]))
    without_image = torch.log(torch.tensor([0.70, 0.10, 0.10, 0.10]))
    guided = guided_logits(with_image, without_image, weight=1.0, plausibility=0.1)
    # token 1 is 4x likelier with the image, token 0 less likely: guidance flips the greedy choice
    assert int(torch.argmax(with_image)) == 0 and int(torch.argmax(guided)) == 1
    expected = 2 * math.log(0.40) - math.log(0.10)
    assert math.isclose(float(guided[1]), expected, rel_tol=1e-5)
    # token 3 (p 0.01 < 0.1 x 0.5) is implausible with the image: never picked, however the prior looks
    assert guided[3] == float("-inf") and torch.isfinite(guided[:3]).all()


def test_the_gate_guides_only_images_the_encoder_reads_a_finding_in():
    normal = [0.95] + [0.1] * 13  # No Finding high: not a finding
    cardiomegaly = [0.2, 0.1, 0.7] + [0.1] * 11
    borderline = [0.5] + [0.1] * 12 + [0.5]  # support devices exactly at the gate
    probs = torch.tensor([normal, cardiomegaly, borderline])
    assert gated_weights(probs, 3.0, 0.5) == [0.0, 3.0, 3.0]
    assert gated_weights(probs, 3.0, 0.8) == [0.0, 0.0, 0.0]
    assert gated_weights(probs, 3.0, 0.0) == [3.0, 3.0, 3.0]  # gate 0: every image, as before the gate
    assert gated_weights(None, 2.0, 0.5) == [2.0]  # grid tokens only: no reading to gate on


def test_a_batch_of_rows_is_guided_row_by_row():  # batched decoding guides (B, V) scores at once
    torch.manual_seed(0)
    with_image, without_image = torch.randn(3, 40) * 3, torch.randn(3, 40) * 3
    batched = guided_logits(with_image, without_image, 2.0)
    assert torch.equal(batched, torch.stack([guided_logits(a, b, 2.0) for a, b in zip(with_image, without_image)]))
    assert (batched == float("-inf")).any(1).all()  # each row has its own plausibility cut


def test_tiny_model_first_guided_token_is_the_argmax_of_the_two_runs(tiny_run, tiny_data):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
    from radscribe.xraygpt.data import image_tensor

    loaded = load_model(tiny_run / "xraygpt-smollm2-lora")
    model = loaded.model
    image = image_tensor(tiny_data / "images" / "0002.png", loaded.image_size)
    prompt = build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])])
    ids = model.text_ids(prompt)
    embed = model.llm.get_input_embeddings()
    with torch.no_grad():
        text = embed(torch.tensor([ids]))
        with_image = model.llm(inputs_embeds=torch.cat([model.visual_embeds(image[None]), text], 1)).logits[0, -1]
        without_image = model.llm(inputs_embeds=text).logits[0, -1]
    for weight in (0.0, 3.0):
        first = next(model.iter_token_ids(image, prompt, max_new_tokens=1, guidance=weight))
        assert first == int(torch.argmax(guided_logits(with_image, without_image, weight)))
