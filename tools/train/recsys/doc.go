// Package recsys is edgetrain's recommender recipe: an implicit-feedback
// ranker (Fit) and a rating regressor (FitRatingsWith) on a ratings CSV
// (user, item, rating; columns from FitOptions.UserCol/ItemCol/RatingCol,
// default userId/movieId/rating), both exported as the catalog's
// recommender graph: Embedding(user), Embedding(item), Dot, bias
// embeddings [U, 1] and [I, 1], Add, Add, and Sigmoid for the ranker.
//
// Files: FitOptions.Data is ratings.csv and TestRows its test_rows.txt
// (the random 80/20 split). When loo_rows.txt and loo_negatives.csv are
// beside Data, the ranker's Test is the leave-one-out set (each user's
// held-out latest positive then its 99 sampled negatives, GroupSize 100;
// the LOO rows are excluded from training) and Result.Split the 80/20
// rows (ROC AUC of the score for rating ≥ 4). The regressor trains on the
// 80 % and reports RMSE, and with Evaluate also the ROC AUC of its
// predicted rating for rating ≥ 4.
//
// Id maps: users and items are dense rows 1..n in sorted raw-id order
// (numeric when every id is a number); row 0 is reserved for ids the
// model does not know. They are stored in Metadata.Features as two
// categorical features named like the graph inputs, "user" and "item":
// Categories[0] is "<unknown>" (Impute 0 names that row), Categories[k]
// the raw id of row k. A device turns a raw id into an input by its index
// in Categories, 0 when absent: an unknown user scores items by their
// biases (popularity), an unknown item gets the lowest item bias (ranker)
// or no item bias (regressor). Metadata.Extra has recsys.kind,
// recsys.user_col, recsys.item_col, recsys.rating_col, recsys.positive
// and recsys.unknown_row.
//
// Training is in float64 with sparse updates: only the embedding rows a
// mini-batch touches are updated (lazy Adam for the ranker, per-example
// SGD for the regressor); export goes through train.Exporter, so int8
// tables are quantized per row exactly as every other recipe's.
package recsys
