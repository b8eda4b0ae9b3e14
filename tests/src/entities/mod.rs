//! The entities of the integration tests: a blog per tenant, plans shared.

pub mod comment;
pub mod plan;
pub mod post;
pub mod tag;
