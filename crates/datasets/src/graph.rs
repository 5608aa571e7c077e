//! Graphs for node classification: Cora in the LINQS layout with the Planetoid split, Zachary's
//! karate club, and any edge list with labels (and optional features and split).
//!
//! A [`Graph`] keeps each undirected edge once; [`Graph::message_edges`] and
//! [`Graph::gcn_edges`] turn them into the directed, weighted lists message passing needs
//! (both directions, self-loops, the symmetric normalisation `D^-1/2 (A + I) D^-1/2` of Kipf &
//! Welling), computed once per graph.

use crate::error::{DataError, Result};
use crate::rng::SplitMix64;
use crate::source::{Checksum, DataSource, RemoteFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A labelled graph with node features and a train/valid/test split of its nodes.
#[derive(Clone, Debug)]
pub struct Graph {
    pub name: String,
    /// The ids the source files use (Cora paper ids, karate node numbers), by node index.
    pub node_ids: Vec<String>,
    pub num_features: usize,
    /// `[num_nodes, num_features]`, row-major.
    pub features: Vec<f32>,
    /// Class index of every node.
    pub labels: Vec<u32>,
    pub class_names: Vec<String>,
    /// Undirected edges `(u, v)` with `u < v`, sorted, each once; no self-loops.
    pub edges: Vec<(u32, u32)>,
    pub splits: NodeSplits,
}

/// Node indices of each role. Nodes in none of them are unlabelled for training purposes
/// (their features and edges still take part in message passing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSplits {
    pub train: Vec<u32>,
    pub valid: Vec<u32>,
    pub test: Vec<u32>,
}

/// Directed edges `src[e] -> dst[e]` with a weight each: messages flow from source to target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphEdges {
    pub src: Vec<u32>,
    pub dst: Vec<u32>,
    pub weight: Vec<f32>,
}

impl GraphEdges {
    pub fn len(&self) -> usize {
        self.src.len()
    }

    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }
}

impl Graph {
    pub fn num_nodes(&self) -> usize {
        self.labels.len()
    }

    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Features of node `i`.
    pub fn feature_row(&self, i: usize) -> &[f32] {
        &self.features[i * self.num_features..(i + 1) * self.num_features]
    }

    /// Scales each node's feature vector to sum 1 (Kipf & Welling's preprocessing of Cora's
    /// bag-of-words); all-zero rows stay zero.
    pub fn row_normalize_features(&mut self) {
        for row in self.features.chunks_exact_mut(self.num_features.max(1)) {
            let sum: f32 = row.iter().sum();
            if sum != 0.0 {
                row.iter_mut().for_each(|v| *v /= sum);
            }
        }
    }

    /// Number of neighbours of each node.
    pub fn degrees(&self) -> Vec<usize> {
        let mut degree = vec![0; self.num_nodes()];
        for &(u, v) in &self.edges {
            degree[u as usize] += 1;
            degree[v as usize] += 1;
        }
        degree
    }

    /// Every edge in both directions, weight 1, sorted by target then source.
    pub fn message_edges(&self) -> GraphEdges {
        self.directed_edges(false)
    }

    /// [`Self::message_edges`] plus one self-loop per node (GAT attends over these).
    pub fn message_edges_with_self_loops(&self) -> GraphEdges {
        self.directed_edges(true)
    }

    fn directed_edges(&self, self_loops: bool) -> GraphEdges {
        let loops = (0..self.num_nodes() as u32)
            .map(|i| (i, i))
            .filter(|_| self_loops);
        let mut pairs: Vec<(u32, u32)> = self
            .edges
            .iter()
            .flat_map(|&(u, v)| [(v, u), (u, v)])
            .chain(loops)
            .collect();
        pairs.sort_unstable();
        GraphEdges {
            src: pairs.iter().map(|&(_, s)| s).collect(),
            dst: pairs.iter().map(|&(d, _)| d).collect(),
            weight: vec![1.0; pairs.len()],
        }
    }

    /// GCN propagation edges: both directions plus self-loops, weighted
    /// `1 / sqrt((deg(i) + 1)(deg(j) + 1))`, the entries of `D^-1/2 (A + I) D^-1/2`.
    pub fn gcn_edges(&self) -> GraphEdges {
        let mut edges = self.message_edges_with_self_loops();
        let inv_sqrt: Vec<f32> = self
            .degrees()
            .iter()
            .map(|&d| 1.0 / ((d + 1) as f32).sqrt())
            .collect();
        for (e, w) in edges.weight.iter_mut().enumerate() {
            *w = inv_sqrt[edges.src[e] as usize] * inv_sqrt[edges.dst[e] as usize];
        }
        edges
    }

    /// How many of `nodes` fall in each class.
    pub fn class_counts(&self, nodes: &[u32]) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &n in nodes {
            counts[self.labels[n as usize] as usize] += 1;
        }
        counts
    }

    /// Checks the invariants every loader promises; loaders call it before returning.
    fn validate(self, path: &Path) -> Result<Self> {
        let n = self.num_nodes();
        let bad = |message: String| Err(DataError::format(path, message));
        if n == 0 {
            return bad("the graph has no nodes".into());
        }
        if self.features.len() != n * self.num_features {
            return bad(format!(
                "{} feature values for {n} nodes of {} features",
                self.features.len(),
                self.num_features
            ));
        }
        if self.splits.train.is_empty() {
            return bad("no training nodes: the split names none as train".into());
        }
        let counts = self.class_counts(&self.splits.train);
        let missing: Vec<&str> = counts
            .iter()
            .zip(&self.class_names)
            .filter(|(c, _)| **c == 0)
            .map(|(_, name)| name.as_str())
            .collect();
        if !missing.is_empty() {
            return bad(format!(
                "the training split has no node of class {}; every class needs at least one \
                 labelled training node",
                missing.join(", ")
            ));
        }
        if self.splits.test.is_empty() {
            return bad("no test nodes: the split names none as test".into());
        }
        Ok(self)
    }
}

/// Node id → index, with a clear error for ids that are not nodes.
struct NodeIndex<'a> {
    index: HashMap<&'a str, u32>,
}

impl<'a> NodeIndex<'a> {
    fn new(ids: &'a [String], path: &Path, what: &str) -> Result<Self> {
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

    fn get(&self, id: &str, path: &Path, line: usize, nodes_file: &Path) -> Result<u32> {
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
fn index_labels(labels: &[String]) -> (Vec<String>, Vec<u32>) {
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
struct Content {
    ids: Vec<String>,
    num_features: usize,
    features: Vec<f32>,
    labels: Vec<String>,
}

fn parse_content(text: &str, path: &Path) -> Result<Content> {
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

/// Cora citation graph (McCallum et al. 2000; Sen et al. 2008) with the Planetoid split
/// (Yang et al. 2016) used by GCN and GAT: 140 train, 500 valid, 1,000 test papers.
pub struct Cora;

/// The LINQS distribution; sha256 of the unmodified 2007 archive.
pub const CORA_ARCHIVE: RemoteFile = RemoteFile {
    name: "cora.tgz",
    alternatives: &["cora"],
    urls: &["https://linqs-data.soe.ucsc.edu/public/lbc/cora.tgz"],
    checksum: Checksum::Sha256("0d4ed463d1627bb7f3e8420effe8f5545fd492ae8f88dab44ce86cee7b26d7e8"),
};

/// Paper id → role for the Planetoid split (see `datasets/README.md` for how it was made).
pub const CORA_SPLIT: RemoteFile = RemoteFile {
    name: "planetoid_split.txt",
    alternatives: &[],
    urls: &[
        "https://raw.githubusercontent.com/burn-zoo/burn-zoo/main/datasets/graphs/cora/planetoid_split.txt",
    ],
    checksum: Checksum::Sha256("8f4acd4ef899e8a4a2c1262ff1146a4d44b05371cfac58a46e8bd7aa9b314f75"),
};

impl Cora {
    /// Loads Cora through `source` (archive, extracted folder or download) with its split.
    pub fn load(source: &DataSource) -> Result<Graph> {
        let archive = source.resolve("graphs/cora", &CORA_ARCHIVE)?;
        let split = source.resolve("graphs/cora", &CORA_SPLIT)?;
        Self::load_files(&archive, &split)
    }

    /// Loads from `cora.tgz` (or a folder holding `cora.content` and `cora.cites`) and a split
    /// file of `paper_id role` lines.
    pub fn load_files(archive: &Path, split_file: &Path) -> Result<Graph> {
        let (content_path, cites_path) = (archive.join("cora.content"), archive.join("cora.cites"));
        let mut files = if archive.is_dir() {
            let mut files = HashMap::new();
            for path in [&content_path, &cites_path] {
                let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
                files.insert(
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    bytes,
                );
            }
            files
        } else {
            crate::read_tar_gz_members(archive, &["cora.content", "cora.cites"])?
        };
        let mut take = |name: &str| {
            files
                .remove(name)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .ok_or_else(|| DataError::format(archive, format!("cora/{name} is missing")))
        };
        let (content_text, cites_text) = (take("cora.content")?, take("cora.cites")?);
        let content = parse_content(&content_text, &content_path)?;
        let edges = parse_edges(&cites_text, &cites_path, &content.ids, &content_path)?;
        let split_text =
            std::fs::read_to_string(split_file).map_err(|e| DataError::io(split_file, e))?;
        let splits = parse_split(&split_text, split_file, &content.ids, &content_path)?;
        let (class_names, labels) = index_labels(&content.labels);
        Graph {
            name: "cora".into(),
            node_ids: content.ids,
            num_features: content.num_features,
            features: content.features,
            labels,
            class_names,
            edges,
            splits,
        }
        .validate(split_file)
    }
}

/// Zachary's karate club (1977): 34 members, 78 friendships, and the two factions the club
/// split into. The classic semi-supervised demo trains on the two leaders only, node 0 (the
/// instructor, "Mr. Hi") and node 33 (the administrator, "Officer"), and tests on the other 32.
/// Features are one-hot node ids (Kipf & Welling 2017, section 5 of the arXiv version).
pub struct Karate;

pub const KARATE_EDGES: RemoteFile = RemoteFile {
    name: "karate.edgelist",
    alternatives: &[],
    urls: &[
        "https://raw.githubusercontent.com/burn-zoo/burn-zoo/main/datasets/graphs/karate/karate.edgelist",
    ],
    checksum: Checksum::Sha256("2095f3a8d35c292020188d1a0fd641effd209a09bc854973d8d6425604f91f6c"),
};

pub const KARATE_LABELS: RemoteFile = RemoteFile {
    name: "karate.labels",
    alternatives: &[],
    urls: &[
        "https://raw.githubusercontent.com/burn-zoo/burn-zoo/main/datasets/graphs/karate/karate.labels",
    ],
    checksum: Checksum::Sha256("111a82b36c4b3d53c2e11ac1189fe425650c5eb08002366d498f287ea8e1bccb"),
};

impl Karate {
    pub fn load(source: &DataSource) -> Result<Graph> {
        let edges = source.resolve("graphs/karate", &KARATE_EDGES)?;
        let labels = source.resolve("graphs/karate", &KARATE_LABELS)?;
        let mut graph = EdgeListGraph::new(&edges, &labels).load()?;
        graph.name = "karate".into();
        if graph.class_names == ["0", "1"] {
            graph.class_names = vec!["Mr. Hi".into(), "Officer".into()];
        }
        let leaders = ["0", "33"].map(|id| graph.node_ids.iter().position(|n| n == id));
        let [Some(hi), Some(officer)] = leaders else {
            return Err(DataError::format(
                &labels,
                "nodes 0 and 33 (the two leaders) are missing",
            ));
        };
        graph.splits = NodeSplits {
            train: vec![hi as u32, officer as u32],
            valid: Vec::new(),
            test: (0..graph.num_nodes() as u32)
                .filter(|&i| i as usize != hi && i as usize != officer)
                .collect(),
        };
        graph.validate(&labels)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A 4-paper Cora-shaped folder: content, cites and a split.
    fn tiny_cora(dir: &Path, content: &str, cites: &str, split: &str) -> Result<Graph> {
        let folder = dir.join("cora");
        std::fs::create_dir_all(&folder).unwrap();
        write(&folder, "cora.content", content);
        write(&folder, "cora.cites", cites);
        let split = write(dir, "split.txt", split);
        Cora::load_files(&folder, &split)
    }

    const CONTENT: &str = "10\t1\t0\t1\tA\n20\t0\t1\t0\tB\n30\t1\t1\t0\tA\n40\t0\t0\t1\tB\n";
    const CITES: &str = "10\t20\n20\t10\n30\t20\n40\t40\n40\t10\n";
    const SPLIT: &str = "10\ttrain\n20\ttrain\n30\tval\n40\ttest\n";

    #[test]
    fn parses_a_small_cora_and_builds_normalised_edges() {
        let dir = tempfile::tempdir().unwrap();
        let g = tiny_cora(dir.path(), CONTENT, CITES, SPLIT).unwrap();
        assert_eq!(g.num_nodes(), 4);
        assert_eq!(g.num_features, 3);
        assert_eq!(g.class_names, ["A", "B"]);
        assert_eq!(g.labels, [0, 1, 0, 1]);
        // 10-20 twice (both directions), 30-20, self-loop 40-40 dropped, 40-10.
        assert_eq!(g.edges, [(0, 1), (0, 3), (1, 2)]);
        assert_eq!(g.degrees(), [2, 2, 1, 1]);
        assert_eq!(g.splits.train, [0, 1]);
        assert_eq!(g.splits.valid, [2]);
        assert_eq!(g.splits.test, [3]);

        let m = g.message_edges();
        assert_eq!(m.len(), 6);
        let gcn = g.gcn_edges();
        assert_eq!(gcn.len(), 6 + 4);
        // Dense D^-1/2 (A+I) D^-1/2 entry for (0, 1): 1 / sqrt(3 * 3).
        let e = (0..gcn.len())
            .find(|&e| gcn.src[e] == 0 && gcn.dst[e] == 1)
            .unwrap();
        assert!((gcn.weight[e] - 1.0 / 3.0).abs() < 1e-6);
        let self_loop = (0..gcn.len())
            .find(|&e| gcn.src[e] == 3 && gcn.dst[e] == 3)
            .unwrap();
        assert!((gcn.weight[self_loop] - 0.5).abs() < 1e-6);

        let mut normalised = g.clone();
        normalised.row_normalize_features();
        assert_eq!(normalised.feature_row(2), [0.5, 0.5, 0.0]);
    }

    #[test]
    fn bad_graph_files_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let err = |content: &str, cites: &str, split: &str| {
            tiny_cora(dir.path(), content, cites, split)
                .unwrap_err()
                .to_string()
        };
        let e = err(CONTENT, "10\t99\n", SPLIT);
        assert!(e.contains("cora.cites") && e.contains("'99'"), "{e}");
        let e = err(CONTENT, CITES, "10\ttrain\n20\ttrain\n77\ttest\n");
        assert!(e.contains("split.txt") && e.contains("'77'"), "{e}");
        let e = err(CONTENT, CITES, "10\ttrain\n20\ttraining\n");
        assert!(e.contains("role 'training'"), "{e}");
        let e = err(CONTENT, CITES, "10\ttrain\n30\ttrain\n");
        assert!(e.contains("no node of class B"), "{e}");
        let e = err("10\t1\t0\t1\tA\n20\t0\t1\t0\n", CITES, SPLIT);
        assert!(e.contains("cora.content") && e.contains("line 2"), "{e}");
        let e = err("10\t1\t0\t1\tA\n20\t0\t1\tB\n", CITES, SPLIT);
        assert!(e.contains("line 2: 2 features"), "{e}");
        let e = err("10\t1\t0\t1\tA\n10\t0\t1\t0\tB\n", CITES, SPLIT);
        assert!(e.contains("appears twice"), "{e}");
        let e = err("", CITES, SPLIT);
        assert!(e.contains("empty"), "{e}");
        let e = err(CONTENT, CITES, "10\ttrain\n20\ttrain\n");
        assert!(e.contains("no test nodes"), "{e}");
        let e = err(CONTENT, CITES, "10\ttrain\n10\ttest\n");
        assert!(e.contains("listed twice"), "{e}");
    }

    #[test]
    fn edge_list_reader_with_and_without_features_and_split() {
        let dir = tempfile::tempdir().unwrap();
        let edges = write(dir.path(), "g.edgelist", "# comment\na b\nb c\nc d\nd a\n");
        let labels = write(dir.path(), "g.labels", "a x\nb y\nc x\nd y\n");
        let mut spec = EdgeListGraph::new(&edges, &labels);
        let g = spec.load().unwrap();
        assert_eq!(g.num_features, 4, "one-hot ids without a feature file");
        assert_eq!(g.edges.len(), 4);
        assert_eq!(g.splits.train.len(), 2);
        assert_eq!(g.class_counts(&g.splits.train), [1, 1]);
        assert_eq!(g.splits.valid.len() + g.splits.test.len(), 2);

        spec.features = Some(write(dir.path(), "g.feat", "a 1 2\nb 3 4\nc 5 6\nd 7 8\n"));
        spec.split = Some(write(
            dir.path(),
            "g.split",
            "a train\nb train\nc valid\nd test\n",
        ));
        let g = spec.load().unwrap();
        assert_eq!(g.num_features, 2);
        assert_eq!(g.feature_row(3), [7.0, 8.0]);
        assert_eq!(g.splits.test, [3]);

        spec.features = Some(write(dir.path(), "bad.feat", "a 1 2\nb 3 4\nc 5 6\n"));
        let e = spec.load().unwrap_err().to_string();
        assert!(
            e.contains("bad.feat") && e.contains("node 'd' has no feature line"),
            "{e}"
        );
        spec.features = None;
        write(dir.path(), "g.edgelist", "a b\nb zz\n");
        let e = spec.load().unwrap_err().to_string();
        assert!(e.contains("g.edgelist") && e.contains("'zz'"), "{e}");
    }

    #[test]
    fn committed_graphs_have_the_published_counts() {
        let source = DataSource::new(None).with_download(false);
        let cora = Cora::load(&source).unwrap();
        assert_eq!(cora.num_nodes(), 2708);
        assert_eq!(cora.num_features, 1433);
        assert_eq!(cora.edges.len(), 5278);
        assert_eq!(cora.features.iter().filter(|&&v| v == 1.0).count(), 49_216);
        assert_eq!(
            (
                cora.splits.train.len(),
                cora.splits.valid.len(),
                cora.splits.test.len()
            ),
            (140, 500, 1000)
        );
        assert_eq!(cora.class_counts(&cora.splits.train), [20; 7]);
        assert_eq!(
            cora.class_counts(&cora.splits.test),
            [103, 144, 319, 149, 91, 64, 130]
        );
        assert!(cora.degrees().iter().all(|&d| d > 0));

        let karate = Karate::load(&source).unwrap();
        assert_eq!(karate.num_nodes(), 34);
        assert_eq!(karate.edges.len(), 78);
        assert_eq!(karate.class_counts(&karate.splits.test), [16, 16]);
        assert_eq!(karate.class_names, ["Mr. Hi", "Officer"]);
    }
}
