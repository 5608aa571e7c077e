//! The Rust CartPole against Gymnasium 1.4.0's CartPole-v1, step for step: the fixture
//! (`scripts/parity/cartpole.py`) holds five episodes (random actions, a controller that keeps
//! the pole up until the 500-step truncation, one that lets the cart run off the track), each
//! from Gymnasium's own start state.

use dqn::CartPole;

#[test]
fn cartpole_reproduces_gymnasium_step_for_step() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cartpole.json"
    ))
    .expect("fixture: run scripts/parity/cartpole.py");
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let episodes = fixture["episodes"].as_array().unwrap();
    let (mut terminated, mut truncated, mut steps) = (0, 0, 0);
    for episode in episodes {
        let start: Vec<f64> = serde_json::from_value(episode["start"].clone()).unwrap();
        let mut env = CartPole::from_state(start.try_into().unwrap());
        for (i, expected) in episode["steps"].as_array().unwrap().iter().enumerate() {
            let step = env.step(expected["action"].as_u64().unwrap() as usize);
            let state: Vec<f64> = serde_json::from_value(expected["state"].clone()).unwrap();
            for (a, b) in env.state.iter().zip(&state) {
                assert!(
                    (a - b).abs() <= 1e-6,
                    "seed {} step {i}: {:?} vs Gymnasium {state:?}",
                    episode["seed"],
                    env.state
                );
            }
            assert_eq!(step.reward as f64, expected["reward"].as_f64().unwrap());
            assert_eq!(
                step.terminated,
                expected["terminated"].as_bool().unwrap(),
                "step {i}"
            );
            assert_eq!(
                step.truncated,
                expected["truncated"].as_bool().unwrap(),
                "step {i}"
            );
            steps += 1;
        }
        let last = episode["steps"].as_array().unwrap().last().unwrap();
        terminated += last["terminated"].as_bool().unwrap() as usize;
        truncated += last["truncated"].as_bool().unwrap() as usize;
    }
    assert_eq!(
        (terminated, truncated),
        (4, 1),
        "both ends of an episode are covered"
    );
    assert!(steps > 700, "{steps}");
}
