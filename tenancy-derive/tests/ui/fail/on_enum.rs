use tenancy::TenantScoped;

#[derive(TenantScoped)]
pub enum Status {
    Draft,
}

fn main() {}
