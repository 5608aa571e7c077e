//! ROC and precision-recall areas against scikit-learn on committed scores
//! (`scripts/parity/curves.py` writes `fixtures/curves.json`).

use trainer::evaluate::{ClassCurves, pr_curve, roc_curve};

fn fixture() -> serde_json::Value {
    let text = include_str!("fixtures/curves.json");
    serde_json::from_str(text).expect("curves.json parses")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(what: &str, ours: f64, theirs: f64) {
    assert!(
        (ours - theirs).abs() <= 1e-9,
        "{what}: ours {ours}, scikit-learn {theirs}"
    );
}

#[test]
fn binary_roc_curve_auc_and_average_precision_match_scikit_learn() {
    let case = &fixture()["binary"];
    let scores: Vec<f32> = floats(&case["scores"]).iter().map(|&s| s as f32).collect();
    let positive: Vec<bool> = floats(&case["labels"]).iter().map(|&l| l == 1.0).collect();
    let roc = roc_curve(&scores, &positive).unwrap();
    close("ROC AUC", roc.auc, case["roc_auc"].as_f64().unwrap());
    // The same points as roc_curve(drop_intermediate=True).
    let (fpr, tpr) = (floats(&case["fpr"]), floats(&case["tpr"]));
    assert_eq!(
        roc.false_positive_rate.len(),
        fpr.len(),
        "points on the curve"
    );
    for i in 0..fpr.len() {
        close("fpr", roc.false_positive_rate[i], fpr[i]);
        close("tpr", roc.true_positive_rate[i], tpr[i]);
    }
    let thresholds = floats(&case["thresholds"]);
    for (ours, theirs) in roc.thresholds[1..].iter().zip(&thresholds) {
        close("threshold", *ours as f64, *theirs);
    }
    let pr = pr_curve(&scores, &positive).unwrap();
    let expected = case["average_precision"].as_f64().unwrap();
    close("average precision", pr.average_precision, expected);
}

#[test]
fn multiclass_one_vs_rest_areas_match_scikit_learn() {
    let case = &fixture()["multiclass"];
    let rows = case["probabilities"].as_array().unwrap();
    let k = rows[0].as_array().unwrap().len();
    let probabilities: Vec<f32> = rows
        .iter()
        .flat_map(|r| floats(r).into_iter().map(|p| p as f32))
        .collect();
    let targets: Vec<usize> = floats(&case["labels"])
        .iter()
        .map(|&l| l as usize)
        .collect();
    let curves = ClassCurves::new(&probabilities, &targets, k);
    let auc = floats(&case["roc_auc_per_class"]);
    let ap = floats(&case["average_precision_per_class"]);
    for c in 0..k {
        close(
            "class ROC AUC",
            curves.classes[c].roc.as_ref().unwrap().auc,
            auc[c],
        );
        let ours = curves.classes[c].pr.as_ref().unwrap().average_precision;
        close("class average precision", ours, ap[c]);
    }
    close(
        "macro ROC AUC",
        curves.roc_auc().unwrap(),
        case["roc_auc_macro_ovr"].as_f64().unwrap(),
    );
    close(
        "macro average precision",
        curves.average_precision().unwrap(),
        case["average_precision_macro"].as_f64().unwrap(),
    );
}
