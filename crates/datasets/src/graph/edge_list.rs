//! Any graph as plain text files.

use super::parse::{NodeIndex, index_labels, parse_edges, parse_split};
use super::{Graph, NodeSplits};
use crate::error::{DataError, Result};
use crate::rng::SplitMix64;
use std::path::{Path, PathBuf};

/// Any graph as plain text files: an edge list (`u v` per line), node labels (`node label` per
/// line; these lines define the nodes), optional features (`node f1 f2 ...`; one-hot node ids
/// without), and an optional split (`node train|val|test`; without, a seeded split with
/// `train_per_class` labelled nodes per class and the rest halved into valid and test).
#[derive(Clone, Debug)]
pub struct EdgeListGraph {
    pub edges: PathBuf,
    pub labels: PathBuf,
    pub features: Option<PathBuf>,
    pub split: Option<PathBuf>,
    pub train_per_class: usize,
    pub seed: u64,
}

impl EdgeListGraph {
    pub fn new(edges: &Path, labels: &Path) -> Self {
        Self {
            edges: edges.to_path_buf(),
            labels: labels.to_path_buf(),
            features: None,
            split: None,
            train_per_class: 20,
            seed: 0,
        }
    }

    pub fn load(&self) -> Result<Graph> {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| DataError::io(p, e));
        let mut ids = Vec::new();
        let mut label_names = Vec::new();
        for (n, line) in read(&self.labels)?.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [id, label] = fields[..] else {
                return Err(DataError::format(
                    &self.labels,
                    format!("line {}: expected 'node label', found '{line}'", n + 1),
                ));
            };
            ids.push(id.to_string());
            label_names.push(label.to_string());
        }
        if ids.is_empty() {
            return Err(DataError::format(
                &self.labels,
                "no nodes: the file is empty",
            ));
        }
        let n = ids.len();
        let edges = parse_edges(&read(&self.edges)?, &self.edges, &ids, &self.labels)?;
        let (num_features, features) = match &self.features {
            Some(path) => self.read_features(path, &ids)?,
            None => {
                let mut one_hot = vec![0.0; n * n];
                (0..n).for_each(|i| one_hot[i * n + i] = 1.0);
                (n, one_hot)
            }
        };
        let (class_names, labels) = index_labels(&label_names);
        let splits = match &self.split {
            Some(path) => parse_split(&read(path)?, path, &ids, &self.labels)?,
            None => seeded_split(&labels, class_names.len(), self.train_per_class, self.seed),
        };
        let name = self
            .edges
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "graph".into());
        Graph {
            name,
            node_ids: ids,
            num_features,
            features,
            labels,
            class_names,
            edges,
            splits,
        }
        .validate(self.split.as_deref().unwrap_or(&self.labels))
    }

    fn read_features(&self, path: &Path, ids: &[String]) -> Result<(usize, Vec<f32>)> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let index = NodeIndex::new(ids, &self.labels, "node")?;
        let mut rows: Vec<Option<Vec<f32>>> = vec![None; ids.len()];
        let mut width = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let id = fields.next().unwrap_or_default();
            let node = index.get(id, path, n + 1, &self.labels)?;
            let values = fields
                .map(|v| v.parse::<f32>())
                .collect::<std::result::Result<Vec<f32>, _>>()
                .map_err(|_| {
                    DataError::format(path, format!("line {}: a feature is not a number", n + 1))
                })?;
            if *width.get_or_insert(values.len()) != values.len() {
                return Err(DataError::format(
                    path,
                    format!(
                        "line {}: {} features, the first line has {}",
                        n + 1,
                        values.len(),
                        width.unwrap_or(0)
                    ),
                ));
            }
            rows[node as usize] = Some(values);
        }
        let mut features = Vec::new();
        for (id, row) in ids.iter().zip(rows) {
            features.extend(row.ok_or_else(|| {
                DataError::format(path, format!("node '{id}' has no feature line"))
            })?);
        }
        Ok((width.unwrap_or(0), features))
    }
}

/// `per_class` training nodes of each class (at most half the class, at least one) chosen at
/// random (seeded); the remaining nodes shuffled and halved into valid and test.
fn seeded_split(labels: &[u32], num_classes: usize, per_class: usize, seed: u64) -> NodeSplits {
    let mut class_size = vec![0usize; num_classes];
    labels.iter().for_each(|&l| class_size[l as usize] += 1);
    let quota: Vec<usize> = class_size
        .iter()
        .map(|&size| per_class.min(size / 2).max(1))
        .collect();
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<u32> = (0..labels.len() as u32).collect();
    rng.shuffle(&mut order);
    let mut taken = vec![0; num_classes];
    let mut splits = NodeSplits::default();
    let mut rest = Vec::new();
    for node in order {
        let class = labels[node as usize] as usize;
        if taken[class] < quota[class] {
            taken[class] += 1;
            splits.train.push(node);
        } else {
            rest.push(node);
        }
    }
    let half = rest.len() / 2;
    splits.valid = rest[..half].to_vec();
    splits.test = rest[half..].to_vec();
    for part in [&mut splits.train, &mut splits.valid, &mut splits.test] {
        part.sort_unstable();
    }
    splits
}
