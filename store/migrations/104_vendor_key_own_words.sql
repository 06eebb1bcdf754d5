-- Vendor keys of names holding the word "constructor": the abbreviation lookup read it through
-- the table's prototype and stored the Object constructor's source text in its place
-- ("constructor medical" was stored as "function Object() { [native code] } medical"). The key
-- is the normalised name, so the word itself is the correct key; other columns are unaffected.
UPDATE invoices
   SET vendor_key = replace(vendor_key, 'function Object() { [native code] }', 'constructor')
 WHERE vendor_key LIKE '%function Object() { [native code] }%';
