//! The variational autoencoder of Kingma & Welling (2014) on MNIST: a Gaussian encoder, the
//! reparameterisation trick, a Bernoulli decoder, the analytic KL term, a β weight (Higgins et
//! al. 2017), and the importance-weighted bound of Burda et al. (2016) as a second estimate of
//! −log p(x).

pub mod config;
pub mod model;
pub mod task;

pub use config::VaeConfig;
pub use model::Vae;
