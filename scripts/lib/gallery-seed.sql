-- The gallery benchmark's data set (scripts/bench-gallery.sh): :users users and :items content
-- items in the schema heading search_path, made by INSERT ... SELECT generate_series (about a
-- minute for a million items). Deterministic (setseed), with skewed, realistic distributions:
--   creators   Zipf-like: creator 1 has the most items, the median creator a few dozen;
--   types      text 40 %, image 35 %, audio 15 %, video 10 %;
--   visibility public 80 %, unlisted 10 %, private 10 %;
--   tags       1-4 per item: `landscape` on 20 % of items (the common tag), `aurora` on
--              0.01 % (the rare tag, ~100 items at a million), the rest drawn Zipf-like from
--              a vocabulary of 400 (`t0` common … `t399` rare);
--   created_at one item every ~30 s over the last year, in bursts (equal times happen: ties
--              are broken by id).
SELECT setseed(0.42);

INSERT INTO users (username, email, created_at, updated_at)
SELECT 'user' || g, 'user' || g || '@example.com', now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, :users) g;

INSERT INTO content_items (title, content_type, content_data, item_metadata, creator_id, created_at,
                           updated_at, tags, quality_score, is_public, is_private)
SELECT 'Piece ' || g || ' ' || (ARRAY['dawn', 'tide', 'nebula', 'forest', 'city', 'dream'])[1 + g % 6],
       CASE WHEN r1 < 0.40 THEN 'text' WHEN r1 < 0.75 THEN 'image' WHEN r1 < 0.90 THEN 'audio' ELSE 'video' END,
       '/media/' || g || '.bin',
       jsonb_build_object('seed', g % 1000),
       1 + floor(:users * power(random(), 3))::int,
       ts, ts,
       (SELECT jsonb_agg(DISTINCT t) FROM (
            SELECT 't' || floor(400 * power(random(), 2.5))::int AS t
            FROM generate_series(1, 1 + (g % 3)) WHERE g > 0
            UNION ALL SELECT 'landscape' WHERE g % 5 = 0
            UNION ALL SELECT 'aurora' WHERE g % 10000 = 7) x),
       round((random())::numeric, 3)::float8,
       vis < 0.80, vis >= 0.90
FROM (
    SELECT g, random() AS r1, random() AS vis,
           -- Bursts: every 4th item shares its predecessor's second.
           date_trunc('second', now() - interval '1 year' + (g - (g % 4 = 0)::int) * interval '31 seconds') AS ts
    FROM generate_series(1::bigint, :items) g
) s;

ANALYZE users;
ANALYZE content_items;
