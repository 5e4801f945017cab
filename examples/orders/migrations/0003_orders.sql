-- An order and its lines; the total is what the customer was charged, discount applied.
CREATE TABLE orders (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id),
    plan         text NOT NULL,
    total_cents  integer NOT NULL CHECK (total_cents >= 0),
    placed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
    order_id         bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku              text NOT NULL REFERENCES products (sku),
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price_cents integer NOT NULL,
    PRIMARY KEY (order_id, sku)
);

CREATE INDEX orders_customer ON orders (customer_id);
