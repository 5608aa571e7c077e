//! The directed, weighted edge lists message passing uses, built once per graph from its
//! undirected edges `(u, v)`: both directions, optional self-loops, and the symmetric GCN
//! normalisation `D^-1/2 (A + I) D^-1/2` of Kipf & Welling (2017, eq. 2).

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

    /// Every undirected edge in both directions, weight 1, sorted by target then source; with
    /// `self_loops`, one loop per node too (GAT attends over these).
    pub fn both_directions(edges: &[(u32, u32)], num_nodes: usize, self_loops: bool) -> Self {
        let loops = (0..num_nodes as u32).map(|i| (i, i)).filter(|_| self_loops);
        let mut pairs: Vec<(u32, u32)> = edges
            .iter()
            .flat_map(|&(u, v)| [(v, u), (u, v)])
            .chain(loops)
            .collect();
        pairs.sort_unstable();
        Self {
            src: pairs.iter().map(|&(_, s)| s).collect(),
            dst: pairs.iter().map(|&(d, _)| d).collect(),
            weight: vec![1.0; pairs.len()],
        }
    }

    /// GCN propagation edges: both directions plus self-loops, weighted
    /// `1 / sqrt((deg(i) + 1)(deg(j) + 1))`, the entries of `D^-1/2 (A + I) D^-1/2`.
    pub fn gcn(edges: &[(u32, u32)], num_nodes: usize) -> Self {
        let mut degree = vec![0usize; num_nodes];
        for &(u, v) in edges {
            degree[u as usize] += 1;
            degree[v as usize] += 1;
        }
        let inv_sqrt: Vec<f32> = degree
            .iter()
            .map(|&d| 1.0 / ((d + 1) as f32).sqrt())
            .collect();
        let mut directed = Self::both_directions(edges, num_nodes, true);
        for (e, w) in directed.weight.iter_mut().enumerate() {
            *w = inv_sqrt[directed.src[e] as usize] * inv_sqrt[directed.dst[e] as usize];
        }
        directed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcn_edges_hold_the_normalised_adjacency() {
        // Nodes 0-1, 0-3, 1-2: degrees 2, 2, 1, 1.
        let edges = [(0, 1), (0, 3), (1, 2)];
        assert_eq!(GraphEdges::both_directions(&edges, 4, false).len(), 6);
        let gcn = GraphEdges::gcn(&edges, 4);
        assert_eq!(gcn.len(), 6 + 4);
        let weight = |s: u32, d: u32| {
            let e = (0..gcn.len()).find(|&e| gcn.src[e] == s && gcn.dst[e] == d);
            gcn.weight[e.unwrap()]
        };
        // Dense D^-1/2 (A+I) D^-1/2 entry for (0, 1): 1 / sqrt(3 * 3); node 3's loop: 1 / 2.
        assert!((weight(0, 1) - 1.0 / 3.0).abs() < 1e-6);
        assert!((weight(3, 3) - 0.5).abs() < 1e-6);
        // Sorted by target, then source.
        assert_eq!(&gcn.dst[..3], [0, 0, 0]);
        assert_eq!(&gcn.src[..3], [0, 1, 3]);
    }
}
