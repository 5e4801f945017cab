-- A customer is whoever the token's subject names; created on their first order.
CREATE TABLE customers (
    id         bigserial PRIMARY KEY,
    subject    text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
