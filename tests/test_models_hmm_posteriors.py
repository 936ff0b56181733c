"""HMMSmoother.predict_proba against a reference log-space forward-backward on long sequences.

The short sequences are checked against an enumeration of every path in ``test_models_hmm.py``;
here the sequences are long enough (thousands of epochs) for the messages of one state to
fall hundreds of orders of magnitude below the others', which is where a linear-domain
recursion loses the posteriors while its rows still sum to 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_models_hmm import MOUSE_TRANSITIONS, ProbaPassthrough

from sleepstage.models import HMMSmoother


def reference_posteriors(hmm: HMMSmoother, proba: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Forward-backward in log space, one epoch at a time, each recording on its own.

    ``numpy.logaddexp.reduce`` is the log-sum-exp (as ``scipy.special.logsumexp``, but
    cheap enough to call once per epoch).
    """
    lik = np.maximum(proba, hmm.proba_floor) / hmm.class_prior_
    with np.errstate(divide="ignore"):
        log_start, log_trans, log_lik = (np.log(hmm.startprob_), np.log(hmm.transmat_),
                                         np.log(lik))
    out = []
    for recording in dict.fromkeys(groups):  # in order of appearance
        ll = log_lik[groups == recording]
        n, k = ll.shape
        log_alpha, log_beta = np.empty((n, k)), np.zeros((n, k))
        log_alpha[0] = log_start + ll[0]
        for t in range(1, n):
            log_alpha[t] = (np.logaddexp.reduce(log_alpha[t - 1][:, None] + log_trans, axis=0)
                            + ll[t])
        for t in range(n - 2, -1, -1):
            log_beta[t] = np.logaddexp.reduce(log_trans + ll[t + 1] + log_beta[t + 1], axis=1)
        log_post = log_alpha + log_beta
        out.append(np.exp(log_post - np.logaddexp.reduce(log_post, axis=1, keepdims=True)))
    return np.vstack(out)


def _fit(y, **params) -> HMMSmoother:
    X = np.full((len(y), 3), 0.2)
    X[np.arange(len(y)), y - 1] = 0.6
    return HMMSmoother(ProbaPassthrough(), priors="uniform", **params).fit(X, y)


def _confident(rng, n, kind):
    if kind == "one-hot":  # exact zeros and ones: every other stage at the probability floor
        return np.eye(3)[rng.integers(0, 3, n)]
    return rng.dirichlet([0.02] * 3, n)  # confident, rarely exactly zero


@pytest.mark.parametrize("kind", ["one-hot", "dirichlet"])
@pytest.mark.parametrize("pseudocount", [1.0, 0.0])
def test_reducible_chain_matches_log_space_reference(pseudocount, kind):
    # stages 1..1 2..2 3..3: 1 -> 2 -> 3 and stage 3 is never left
    hmm = _fit(np.repeat([1, 2, 3], 2000), pseudocount=pseudocount)
    assert hmm.transmat_[2, 2] == 1.0 and hmm.transmat_[1, 0] == 0.0
    rng = np.random.default_rng(0)
    proba = _confident(rng, 7000, kind)
    groups = np.repeat([0, 1], [6000, 1000])
    post = hmm.predict_proba(proba, groups=groups)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    np.testing.assert_allclose(post, reference_posteriors(hmm, proba, groups), atol=1e-7)


def test_irreducible_chain_matches_log_space_reference():
    rng = np.random.default_rng(1)
    y = np.concatenate([np.repeat(rng.permutation([1, 2, 3]), rng.integers(20, 80, 3))
                        for _ in range(60)])
    hmm = _fit(y)
    assert (hmm.transmat_ > 0).all()
    proba = 0.5 * _confident(rng, 6000, "one-hot") + 0.5 * rng.dirichlet([1.0] * 3, 6000)
    groups = np.repeat(["b", "a", "c"], [3000, 1, 2999])  # includes a one-epoch recording
    post = hmm.predict_proba(proba, groups=groups)
    np.testing.assert_allclose(post, reference_posteriors(hmm, proba, groups), atol=1e-7)


def test_mouse_chain_with_structural_zeros_matches_reference():
    rng = np.random.default_rng(2)
    states = [0]
    for _ in range(5999):
        states.append(rng.choice(3, p=MOUSE_TRANSITIONS[states[-1]]))
    hmm = _fit(np.array(states) + 1, pseudocount=0.0)
    assert (hmm.transmat_ == 0).sum() == 2
    proba = _confident(rng, 6000, "one-hot")
    groups = np.zeros(6000, dtype=int)
    post = hmm.predict_proba(proba, groups=groups)
    np.testing.assert_allclose(post, reference_posteriors(hmm, proba, groups), atol=1e-7)
