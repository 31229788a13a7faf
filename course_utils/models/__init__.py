"""The course's models, one module per family; every model is a plain torch.nn.Module.

Shared interface: density models have `log_prob(x)` (per-example, nats) and `sample(n)`;
latent models add `encode`/`decode`; every model has `loss(x)` for training and a frozen
dataclass `config` (its class is `Model.Config`) so checkpoints can rebuild it.
"""
