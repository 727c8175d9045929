"""The network and what it is made of and stored in: MahlerNet (:mod:`~core.model.network`), its
input features, the output chain shared by training and generation, keyed dropout, the training
objective, batching of prepared bars, and checkpoints with their model cards."""
