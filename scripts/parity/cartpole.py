"""Gymnasium CartPole-v1 trajectories for the Rust environment's parity test.

Writes models/dqn/tests/fixtures/cartpole.json: for each episode the start state (float64, as
Gymnasium keeps it), then per step the action, the state after it, the reward and the
terminated / truncated flags. The Rust test starts from the same state (it cannot draw numpy's
PCG64 numbers), replays the actions and must match every state within 1e-6.

    python -m venv venv && venv/bin/pip install gymnasium==1.4.0
    venv/bin/python scripts/parity/cartpole.py
"""

import json
import pathlib

import gymnasium as gym
import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "models/dqn/tests/fixtures/cartpole.json"


def episode(seed, policy):
    env = gym.make("CartPole-v1")
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    start = [float(v) for v in env.unwrapped.state]
    steps = []
    while True:
        x, x_dot, theta, theta_dot = env.unwrapped.state
        action = policy(rng, x, x_dot, theta, theta_dot)
        _, reward, terminated, truncated, _ = env.step(action)
        steps.append(
            {
                "action": int(action),
                "state": [float(v) for v in env.unwrapped.state],
                "reward": float(reward),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        )
        if terminated or truncated:
            return {"seed": seed, "start": start, "steps": steps}


def random_policy(rng, *state):
    return int(rng.integers(2))


def balancing_policy(rng, x, x_dot, theta, theta_dot):
    # Pushes toward the side the pole falls to: keeps it up for the whole 500 steps.
    return int(theta + 0.5 * theta_dot + 0.01 * x + 0.1 * x_dot > 0)


def drifting_policy(rng, x, x_dot, theta, theta_dot):
    # Balances the pole but lets the cart run off: ends on the position limit, not the angle.
    return int(theta + 0.5 * theta_dot - 0.04 > 0)


episodes = [episode(s, random_policy) for s in (0, 1, 2)]
episodes.append(episode(3, balancing_policy))
episodes.append(episode(4, drifting_policy))
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(
    json.dumps({"gymnasium": gym.__version__, "env": "CartPole-v1", "episodes": episodes})
)
for e in episodes:
    last = e["steps"][-1]
    print(
        f"seed {e['seed']}: {len(e['steps'])} steps, terminated {last['terminated']}, "
        f"truncated {last['truncated']}, final x {last['state'][0]:.3f} theta {last['state'][2]:.3f}"
    )
