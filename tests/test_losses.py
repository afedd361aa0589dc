import torch
import torch.nn.functional as F

from mssr.losses import per_example_mean, response_exact, token_losses


def test_per_example_mean_masks_prompt_and_padding():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 11)
    labels = torch.tensor([[-100, -100, 3, 4, 5], [-100, 7, 8, -100, -100]])
    losses, mask = token_losses(logits, labels)
    means = per_example_mean(losses, mask)
    expected0 = F.cross_entropy(logits[0, 1:4], labels[0, 2:5])
    expected1 = F.cross_entropy(logits[1, 0:2], labels[1, 1:3])
    torch.testing.assert_close(means, torch.stack([expected0, expected1]))


def test_response_exact_requires_every_response_token():
    labels = torch.tensor([[-100, 1, 2], [-100, 1, 2]])
    logits = torch.full((2, 3, 4), -10.0)
    logits[:, 0, 1] = 10  # predicts token 1 after position 0
    logits[0, 1, 2] = 10  # first example also predicts token 2
    logits[1, 1, 3] = 10  # second example gets it wrong
    assert response_exact(logits, labels).tolist() == [True, False]
