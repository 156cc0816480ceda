"""One module per finding detector. Record detectors look at one record, pair detectors at a matched
pair; duplicates, orphans, missing records and schema drift need a whole side and live apart."""
