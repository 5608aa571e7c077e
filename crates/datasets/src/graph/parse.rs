//! The text formats graphs come in: edge lists, node splits, and Cora's node file.

use super::NodeSplits;
use crate::error::{DataError, Result};
use std::collections::HashMap;
use std::path::Path;

/// Node id → index, with a clear error for ids that are not nodes.
pub(super) struct NodeIndex<'a> {
    index: HashMap<&'a str, u32>,
}

impl<'a> NodeIndex<'a> {
    pub(super) fn new(ids: &'a [String], path: &Path, what: &str) -> Result<Self> {
        let mut index = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if index.insert(id.as_str(), i as u32).is_some() {
                return Err(DataError::format(
                    path,
                    format!("{what} '{id}' appears twice; every {what} needs exactly one line"),
                ));
            }
        }
        Ok(Self { index })
    }

    pub(super) fn get(&self, id: &str, path: &Path, line: usize, nodes_file: &Path) -> Result<u32> {
        self.index.get(id).copied().ok_or_else(|| {
            DataError::format(
                path,
                format!(
                    "line {line} names node '{id}', which is not in {}",
                    nodes_file.display()
                ),
            )
        })
    }
}

/// Parses undirected edges `u v` (whitespace-separated ids, one pair per line, `#` comments).
/// Duplicates and reversed duplicates collapse to one edge; self-loops are dropped (the layers
/// add their own).
pub fn parse_edges(
    text: &str,
    path: &Path,
    ids: &[String],
    nodes_file: &Path,
) -> Result<Vec<(u32, u32)>> {
    let index = NodeIndex::new(ids, nodes_file, "node")?;
    let mut edges = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 2 {
            return Err(DataError::format(
                path,
                format!("line {}: expected two node ids, found '{line}'", n + 1),
            ));
        }
        let u = index.get(fields[0], path, n + 1, nodes_file)?;
        let v = index.get(fields[1], path, n + 1, nodes_file)?;
        if u != v {
            edges.push((u.min(v), u.max(v)));
        }
    }
    edges.sort_unstable();
    edges.dedup();
    Ok(edges)
}

/// Parses a split file: `node_id role` per line, role `train`, `val`/`valid` or `test`.
pub fn parse_split(
    text: &str,
    path: &Path,
    ids: &[String],
    nodes_file: &Path,
) -> Result<NodeSplits> {
    let index = NodeIndex::new(ids, nodes_file, "node")?;
    let mut splits = NodeSplits::default();
    let mut seen = vec![false; ids.len()];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [id, role] = fields[..] else {
            return Err(DataError::format(
                path,
                format!("line {}: expected 'node_id role', found '{line}'", n + 1),
            ));
        };
        let node = index.get(id, path, n + 1, nodes_file)?;
        if std::mem::replace(&mut seen[node as usize], true) {
            return Err(DataError::format(
                path,
                format!("line {}: node '{id}' is listed twice", n + 1),
            ));
        }
        match role {
            "train" => splits.train.push(node),
            "val" | "valid" => splits.valid.push(node),
            "test" => splits.test.push(node),
            other => {
                return Err(DataError::format(
                    path,
                    format!(
                        "line {}: role '{other}' for node '{id}'; expected train, val or test",
                        n + 1
                    ),
                ));
            }
        }
    }
    Ok(splits)
}

/// Class names sorted, and each label's index among them.
pub(super) fn index_labels(labels: &[String]) -> (Vec<String>, Vec<u32>) {
    let mut names: Vec<String> = labels.to_vec();
    names.sort();
    names.dedup();
    let position: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let indices = labels.iter().map(|l| position[l.as_str()]).collect();
    (names, indices)
}

/// Cora's node file: one paper per line, `paper_id <features...> class_label`, tab-separated.
pub(super) struct Content {
    pub(super) ids: Vec<String>,
    pub(super) num_features: usize,
    pub(super) features: Vec<f32>,
    pub(super) labels: Vec<String>,
}

pub(super) fn parse_content(text: &str, path: &Path) -> Result<Content> {
    let mut content = Content {
        ids: Vec::new(),
        num_features: 0,
        features: Vec::new(),
        labels: Vec::new(),
    };
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 3 {
            return Err(DataError::format(
                path,
                format!(
                    "line {}: {} fields; expected a paper id, the word features and a class label",
                    n + 1,
                    fields.len()
                ),
            ));
        }
        let words = &fields[1..fields.len() - 1];
        if content.ids.is_empty() {
            content.num_features = words.len();
        } else if words.len() != content.num_features {
            return Err(DataError::format(
                path,
                format!(
                    "line {}: {} features, but the first line has {}; a class label or feature \
                     is missing",
                    n + 1,
                    words.len(),
                    content.num_features
                ),
            ));
        }
        for w in words {
            let value: f32 = w.parse().map_err(|_| {
                DataError::format(
                    path,
                    format!("line {}: feature '{w}' is not a number", n + 1),
                )
            })?;
            content.features.push(value);
        }
        let label = fields[fields.len() - 1];
        if label.parse::<f32>().is_ok() {
            return Err(DataError::format(
                path,
                format!(
                    "line {}: the last field '{label}' is a number, not a class label; the class \
                     column is missing",
                    n + 1
                ),
            ));
        }
        content.ids.push(fields[0].to_string());
        content.labels.push(label.to_string());
    }
    if content.ids.is_empty() {
        return Err(DataError::format(path, "no papers: the file is empty"));
    }
    Ok(content)
}
