"""Forward models of the experiments, each exposed as an llcore `Problem`."""
