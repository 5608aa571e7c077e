//! Graphs for node classification: Cora in the LINQS layout with the Planetoid split, Zachary's
//! karate club, and any edge list with labels (and optional features and split).
//!
//! A [`Graph`] keeps each undirected edge once; the `gnn` crate turns them into the directed,
//! weighted lists message passing needs.

//!
//! One file per job: `parse.rs` reads the text formats, `planetoid.rs` fetches Cora and the
//! karate club, `edge_list.rs` reads any graph as plain text files.

mod edge_list;
mod parse;
mod planetoid;

pub use edge_list::EdgeListGraph;
pub use parse::{parse_edges, parse_split};
pub use planetoid::{CORA_ARCHIVE, CORA_SPLIT, Cora, KARATE_EDGES, KARATE_LABELS, Karate};

use crate::error::{DataError, Result};
use std::path::Path;

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

impl Graph {
    /// Replaces the training and validation nodes by a k-fold split of them together (the
    /// labelled nodes outside test): fold `fold` of `folds` validates, the others train;
    /// stratified by class and seeded (see [`crate::folds::stratified_fold`]).
    pub fn use_fold(&mut self, folds: usize, fold: usize, seed: u64) -> crate::Result<()> {
        let mut labelled = self.splits.train.clone();
        labelled.extend(&self.splits.valid);
        let labels = &self.labels;
        let (train, valid) = crate::folds::stratified_fold(
            &labelled,
            |node| labels[node as usize] as usize,
            &self.class_names,
            folds,
            fold,
            seed,
        )?;
        self.splits.train = train;
        self.splits.valid = valid;
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::DataSource;
    use std::path::PathBuf;

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
    fn parses_a_small_cora() {
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
