#!/usr/bin/env python3
"""Writes crates/trainer/pretrained/zoo.json, the registry entries of burn-zoo's own shipped
checkpoints, from what `scripts/pretrained/make` left in weights/<name>/: the run config
(architecture, input, classes), the report (test figure, parameters, date) and the command."""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
NORMALIZATION = {  # the data sets' own constants (zoo_core::Normalization)
    "mnist": ([0.1307], [0.3081]),
    "cifar10": ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),
}


def figure(report):
    test = report.get("test", {})
    if "accuracy" in test:
        return f"test accuracy {test['accuracy']:.2f}% ({test['samples']} test examples)"
    if "neg_elbo" in test:
        return (f"test -ELBO {test['neg_elbo']:.2f} nats/image (reconstruction "
                f"{test['reconstruction']:.2f}, KL {test['kl']:.2f}; {report.get('test_images')} test images)")
    return json.dumps(test)


def main():
    entries = []
    for folder in sorted((ROOT / "weights").iterdir()):
        if not (folder / "model.bpk").is_file():
            continue
        config = json.loads((folder / "config.json").read_text())
        report = json.loads((folder / "report.json").read_text())
        command = (folder / "command.txt").read_text().strip()
        data = config.get("data", {})
        dataset = report.get("dataset", "?")
        mean, std = NORMALIZATION.get(dataset, ([], []))
        size = (folder / "model.bpk").stat().st_size
        entries.append({
            "name": folder.name,
            "model": config["model"],
            "config": config["model_config"],
            "file": "model.bpk",
            "path": f"weights/{folder.name}/model.bpk",
            "size_mb": round(size / 1e6, 3),
            "parameters": report.get("parameters", 0),
            "dataset": dataset,
            "classes": ",".join(data.get("classes", [])) if isinstance(data, dict) else "",
            "input": [data[k] for k in ("channels", "height", "width")]
            if isinstance(data, dict) and "channels" in data else [],
            "mean": mean,
            "std": std,
            "reported": f"{figure(report)}, measured by burn-zoo (seed {report.get('seed')}, "
                        f"commit {report.get('git_commit')}, {report.get('wall_seconds', 0):.0f} s on 2 CPU cores)",
            "licence": "MIT OR Apache-2.0 (burn-zoo)",
            "source": f"cargo run -p {config['model']} --release -- {command.split(' ', 1)[1]}",
        })
    out = ROOT / "crates" / "trainer" / "pretrained" / "zoo.json"
    out.write_text(json.dumps(entries, indent=2) + "\n")
    print(f"wrote {len(entries)} entries to {out}")


if __name__ == "__main__":
    main()
