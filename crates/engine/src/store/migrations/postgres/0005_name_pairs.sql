-- Two characters of a buyer's name (a Chinese given name, or a whole name, often) cannot use
-- the trigram index, which needs three: such a search walked the shop's cases in due order, or
-- read every order (up to 2 s at 1,000,000 cases). The pairs of consecutive characters of each
-- name, lower-cased as ILIKE compares, in an inverted index: a two-character search is one
-- lookup of its pair.
CREATE FUNCTION name_pairs(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT coalesce(array_agg(DISTINCT lower(substr(name, i, 2))), '{}')
          FROM generate_series(1, char_length(name) - 1) AS i $$;
CREATE INDEX orders_name_pairs ON orders USING gin (name_pairs(customer_name));
