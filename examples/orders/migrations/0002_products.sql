-- The catalogue: prices in cents, never floats.
CREATE TABLE products (
    sku         text PRIMARY KEY,
    name        text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents > 0)
);

INSERT INTO products (sku, name, price_cents) VALUES
    ('tea', 'Loose-leaf tea, 100 g', 650),
    ('mug', 'Stoneware mug', 1200),
    ('kettle', 'Gooseneck kettle', 4900);
