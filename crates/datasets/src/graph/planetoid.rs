//! The two graphs the zoo trains on out of the box: Cora with the Planetoid split, and
//! Zachary's karate club, located or downloaded with checksums.

use super::parse::{index_labels, parse_content, parse_edges, parse_split};
use super::{EdgeListGraph, Graph, NodeSplits};
use crate::error::{DataError, Result};
use crate::source::{Checksum, DataSource, RemoteFile};
use std::collections::HashMap;
use std::path::Path;

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
