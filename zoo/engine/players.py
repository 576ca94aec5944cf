"""One optimizer object over the optimizers of a model's players."""

import weakref

import keras


class PlayersOptimizer(keras.optimizers.Optimizer):
    """The optimizers of a multi-player model, seen by Keras as one.

    It never updates anything itself: each player's optimizer applies its own
    gradients in the model's training step. It exists so that Keras code that
    knows one `model.optimizer` sees every player's optimizer state: the JAX
    trainer threads exactly `model.optimizer.variables` through its jitted
    step, so without it the players' optimizer states would not advance.

    Args:
        model: a `zoo.models.MultiOptimizerModel` with its players' optimizers
            set (its `OPTIMIZERS` attributes).
    """

    def __init__(self, model):
        super().__init__(learning_rate=0.0, name="players")
        # A weak reference: Keras' saving walks an optimizer's attributes, and a
        # model reached again from its optimizer would be walked for ever.
        self._model_ref = weakref.ref(model)

    @property
    def players(self):
        return self._model_ref().optimizers

    @property
    def variables(self):
        return [v for optimizer in self.players for v in optimizer.variables]

    @property
    def built(self):
        return all(optimizer.built for optimizer in self.players)

    @built.setter
    def built(self, value):
        pass  # follows the players

    def build(self, var_list=None):
        del var_list
        self._model_ref().build_optimizers()

    def apply(self, grads, trainable_variables=None):
        raise RuntimeError("PlayersOptimizer applies nothing: each player's optimizer updates its own variables")

    def finalize_variable_values(self, var_list):
        pass  # each player's optimizer is finalized with its own variables

    def get_config(self):
        return {"name": self.name, "players": [o.name for o in self.players]}
