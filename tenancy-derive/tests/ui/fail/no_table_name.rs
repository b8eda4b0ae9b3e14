use tenancy::TenantScoped;

#[derive(TenantScoped)]
pub struct Model {
    pub id: i32,
}

fn main() {}
